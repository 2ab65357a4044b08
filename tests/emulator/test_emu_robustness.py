"""Hostile clients on raw sockets: absurd input gets a contract-shaped 4xx,
never a 500; slow and idle connections are closed; the unauthenticated
incoming-call webhook cannot grow memory without bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from voice_async.testing import Emulator

from .emu_helpers import REQUEST_ID

BIG = "9" * 4400  # past Python's 4300-digit int() limit
WS_UPGRADE = (
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
)


def http_request(
    method: str,
    target: bytes | str,
    headers: bytes | str = b"",
    body: bytes = b"",
    *,
    close: bool = True,
) -> bytes:
    raw_target = target.encode() if isinstance(target, str) else target
    raw_headers = headers.encode() if isinstance(headers, str) else headers
    head = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % (
        method.encode(),
        raw_target,
        len(body),
    )
    if close:
        head += b"Connection: close\r\n"
    return head + raw_headers + b"\r\n" + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length: status, headers, body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return int(lines[0].split()[1]), headers, body


async def exchange(emu: Emulator, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` on a new connection and read one response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    try:
        writer.write(data)
        return await read_response(reader)
    finally:
        writer.close()


def contract_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert 400 <= status < 500, (status, body)
    assert headers["content-type"].startswith("application/json")
    assert REQUEST_ID.fullmatch(headers["x-request-id"])
    error = json.loads(body)["error"]
    assert set(error) == {"type", "message", "param"}
    return dict(error)


def _tenant(emu: Emulator) -> str:
    return f"Authorization: Bearer {emu.api_key}\r\n"


def _admin(emu: Emulator) -> str:
    return f"x-admin-key: {emu.admin_key}\r\nContent-Type: application/json\r\n"


CONFIG = "/api/v1/admin/tenants/tn_emulator/runtime-config"
CASES: dict[str, Any] = {
    "limit": lambda e: ("GET", f"/api/v1/voice-sessions?limit={BIG}", _tenant(e), b"", "limit"),
    "offset": lambda e: ("GET", f"/api/v1/voice-sessions?offset={BIG}", _tenant(e), b"", "offset"),
    "after_seq": lambda e: (
        "GET",
        f"/api/v1/voice-sessions/vs_x/events?after_seq={BIG}",
        _tenant(e) + WS_UPGRADE,
        b"",
        "after_seq",
        False,
    ),
    "if_match": lambda e: (
        "PUT",
        CONFIG,
        _admin(e) + f"If-Match: {BIG}\r\n",
        b'{"voice": "verse"}',
        "If-Match",
    ),
    "deep_json_call": lambda e: (
        "POST",
        "/api/v1/make-call",
        _tenant(e) + "Content-Type: application/json\r\n",
        b"[" * 100_000 + b"]" * 100_000,
        None,
    ),
    "deep_json_config": lambda e: ("PUT", CONFIG, _admin(e), b'{"a":' * 100_000, None),
    "lone_surrogate_metadata": lambda e: (
        "POST",
        "/api/v1/make-call",
        _tenant(e) + "Content-Type: application/json\r\n",
        b'{"to": "+15555555678", "from": "+15555551234", "agent_key": "a",'
        b' "metadata": {"note": "\\ud800"}}',
        "metadata",
    ),
    "non_ascii_bearer": lambda e: (
        "GET",
        "/api/v1/voice-sessions",
        b"Authorization: Bearer \xff\xfe\xe9\x80\r\n",
        b"",
        None,
    ),
    "non_ascii_admin_key": lambda e: ("GET", CONFIG, b"x-admin-key: \xff\xe9\x80\r\n", b"", None),
    "raw_utf8_path": lambda e: (
        "GET",
        "/api/v1/voice-sessions/vs_é😀".encode(),
        _tenant(e),
        b"",
        None,
    ),
    "raw_utf8_tenant": lambda e: (
        "GET",
        "/api/v1/admin/tenants/tén/runtime-config".encode(),
        _admin(e),
        b"",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_absurd_input_gets_a_contract_4xx(emu: Emulator, case: str) -> None:
    method, target, headers, body, param, *close = CASES[case](emu)
    status, reply_headers, reply = await exchange(
        emu, http_request(method, target, headers, body, close=not close)
    )
    error = contract_error(status, reply_headers, reply)
    if param is not None:
        assert error["param"] == param
    assert emu.stats.calls_placed == 0


async def test_non_ascii_keys_are_refused_as_unauthenticated(emu: Emulator) -> None:
    status, headers, body = await exchange(
        emu, http_request("GET", "/api/v1/voice-sessions", b"Authorization: Bearer \xff\xfe\r\n")
    )
    assert status == 401
    assert contract_error(status, headers, body)["type"] == "authentication_error"


async def test_the_server_still_answers_after_the_barrage(emu: Emulator) -> None:
    for case in sorted(CASES):
        method, target, headers, body, _, *close = CASES[case](emu)
        await exchange(emu, http_request(method, target, headers, body, close=not close))
    status, _, body = await exchange(emu, http_request("GET", "/healthz"))
    assert (status, json.loads(body)) == (200, {"status": "ok"})


# -- slow and idle connections ------------------------------------------------


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bytes:
    """Everything the server sends until it closes; fails if it does not close.

    A close while the client still has bytes in flight may arrive as a reset
    rather than a FIN: both mean the server hung up.
    """
    try:
        return await asyncio.wait_for(reader.read(), within)
    except ConnectionResetError:
        return b""


Connection = tuple[Emulator, asyncio.StreamReader, asyncio.StreamWriter]


@contextlib.asynccontextmanager
async def _raw_connection(**options: Any) -> AsyncIterator[Connection]:
    """An emulator with ``options`` (its deadlines) and one raw TCP connection to it.

    The client side is closed on exit whatever the test did, so a failed
    assertion does not leave a socket for the emulator's shutdown to wait on.
    """
    async with Emulator(**options) as emu:
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        try:
            yield emu, reader, writer
        finally:
            writer.close()


async def test_a_connection_that_sends_nothing_is_closed() -> None:
    async with _raw_connection(read_timeout=0.3) as (_, reader, _):
        assert await _closed_by_server(reader, 10) == b""


async def test_a_head_sent_one_byte_at_a_time_is_cut_off() -> None:
    endless = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10_000
    sent = 0
    async with _raw_connection(read_timeout=0.3) as (_, reader, writer):
        closed = asyncio.ensure_future(_closed_by_server(reader, 15))
        while not closed.done() and sent < len(endless):
            writer.write(endless[sent : sent + 1])
            sent += 1
            await asyncio.sleep(0.01)
        assert await closed == b""  # no answer at all, just closed
    assert sent < len(endless)  # the server gave up first


async def test_a_body_sent_too_slowly_gets_408() -> None:
    async with _raw_connection(read_timeout=0.3) as (emu, reader, writer):
        head = http_request(
            "POST", "/api/v1/make-call", _tenant(emu) + "Content-Type: application/json\r\n", b""
        )
        head = head.replace(b"Content-Length: 0", b"Content-Length: 100")
        writer.write(head + b'{"to": ')  # and nothing more
        status, headers, body = await read_response(reader)
        assert await _closed_by_server(reader, 10) == b""  # not kept for the rest
        assert status == 408
        assert contract_error(status, headers, body)["type"] == "invalid_request"
        assert emu.stats.calls_placed == 0


async def test_an_idle_kept_alive_connection_is_closed() -> None:
    async with _raw_connection(idle_timeout=0.3) as (_, reader, writer):
        writer.write(http_request("GET", "/healthz", close=False))
        assert (await read_response(reader))[0] == 200
        assert await _closed_by_server(reader, 10) == b""


async def test_a_fast_client_is_not_affected_by_the_head_deadline() -> None:
    async with _raw_connection(read_timeout=0.3) as (_, reader, writer):
        for _ in range(3):  # several requests on one connection, slower in total
            writer.write(http_request("GET", "/healthz", close=False))
            assert (await read_response(reader))[0] == 200
            await asyncio.sleep(0.15)


# -- the unauthenticated webhook ----------------------------------------------


def _incoming(call_sid: str) -> bytes:
    form = f"CallSid={call_sid}&From=%2B15555550001&To=%2B15555550002".encode()
    return http_request(
        "POST", "/api/v1/incoming-call", "Content-Type: application/x-www-form-urlencoded\r\n", form
    )


async def test_an_incoming_call_flood_is_bounded() -> None:
    async with Emulator(inbound_limit=5) as emu:
        statuses = [(await exchange(emu, _incoming(f"CA{i:032x}")))[0] for i in range(9)]
        assert statuses == [200] * 5 + [429] * 4
        status, headers, body = await exchange(emu, _incoming(f"CA{7:032x}"))
        assert contract_error(status, headers, body)["type"] == "rate_limited"
        # Twilio's retries of a known call are still answered.
        assert (await exchange(emu, _incoming(f"CA{0:032x}")))[0] == 200
        assert emu.total_sessions == 5 and emu.stats.inbound_calls == 5


def test_limits_are_validated() -> None:
    for kwargs in ({"read_timeout": 0}, {"idle_timeout": -1}, {"inbound_limit": -1}):
        with pytest.raises(ValueError):
            Emulator(**kwargs)
