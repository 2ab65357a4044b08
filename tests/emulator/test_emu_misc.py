"""healthz, request ids on every answer, stats, the Emulator object and the CLI."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from voice_async.testing import Emulator
from voice_async.testing._serve import main

from .emu_helpers import REQUEST_ID, admin, auth, request

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz(emu: Emulator, http: aiohttp.ClientSession) -> None:
    reply = await request(http, "GET", f"{emu.base_url}/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})
    assert REQUEST_ID.fullmatch(reply.headers["x-request-id"])


async def test_unknown_path_and_wrong_method(emu: Emulator, http: aiohttp.ClientSession) -> None:
    reply = await request(http, "GET", f"{emu.base_url}/api/v1/nothing-here")
    assert reply.status == 404
    assert reply.error()["type"] == "not_found"
    reply = await request(http, "DELETE", f"{emu.base_url}/api/v1/make-call", headers=auth(emu))
    assert reply.status == 405
    assert reply.error()["type"] == "invalid_request"
    assert "POST" in reply.headers["Allow"]
    assert emu.stats.requests["unknown"] == 2


async def test_oversized_body_is_413(emu: Emulator, http: aiohttp.ClientSession) -> None:
    body = io.BytesIO(b"{" + b" " * (2 * 1024 * 1024) + b"}")
    reply = await request(
        http,
        "POST",
        f"{emu.base_url}/api/v1/make-call",
        data=body,
        headers={**auth(emu), "content-type": "application/json"},
    )
    assert reply.status == 413
    assert reply.error()["type"] == "invalid_request"
    assert REQUEST_ID.fullmatch(reply.headers["x-request-id"])


def _sweep(emu: Emulator) -> list[tuple[str, str, dict[str, Any]]]:
    sid = emu.insert_sessions(1)[0]
    config = f"/api/v1/admin/tenants/{emu.tenant_id}/runtime-config"
    call = {"to": "+15555555678", "from": "+15555551234", "agent_key": "a"}
    form = {"CallSid": "CA1", "From": "+15555550001", "To": "+15555550002"}
    return [
        ("POST", "/api/v1/make-call", {"json": call, "headers": auth(emu)}),
        ("POST", "/api/v1/make-call", {"json": call}),
        (
            "POST",
            "/api/v1/make-call",
            {"json": {**call, "agent_key": "unknown"}, "headers": auth(emu)},
        ),
        ("GET", "/api/v1/voice-sessions", {"headers": auth(emu)}),
        ("GET", "/api/v1/voice-sessions?limit=0", {"headers": auth(emu)}),
        ("GET", f"/api/v1/voice-sessions/{sid}", {"headers": auth(emu)}),
        ("GET", "/api/v1/voice-sessions/vs_missing", {"headers": auth(emu)}),
        ("GET", f"/api/v1/voice-sessions/{sid}/events", {"headers": auth(emu)}),
        ("POST", "/api/v1/incoming-call", {"data": form}),
        ("POST", "/api/v1/incoming-call", {"data": {}}),
        ("GET", config, {"headers": admin(emu)}),
        ("GET", config, {"headers": auth(emu)}),
        ("GET", config, {}),
        ("PUT", config, {"json": {"voice": "v"}, "headers": admin(emu)}),
        ("PUT", config, {"json": {"voice": "v"}, "headers": {**admin(emu), "If-Match": "1"}}),
        ("GET", "/api/v1/admin/tenants/tn_nobody/runtime-config", {"headers": admin(emu)}),
        ("GET", "/healthz", {}),
        ("GET", "/missing", {}),
    ]


async def test_every_answer_has_a_request_id(emu: Emulator, http: aiohttp.ClientSession) -> None:
    seen = set()
    statuses = set()
    for method, path, kwargs in _sweep(emu):
        reply = await request(http, method, emu.base_url + path, **kwargs)
        statuses.add(reply.status)
        request_id = reply.headers.get("x-request-id", "")
        assert REQUEST_ID.fullmatch(request_id), (method, path)
        seen.add(request_id)
    assert len(seen) == len(_sweep(emu))
    assert statuses == {200, 201, 400, 401, 403, 404, 409, 422}
    assert set(emu.stats.requests) == {
        "make_call",
        "list_sessions",
        "get_session",
        "events",
        "incoming_call",
        "get_runtime_config",
        "put_runtime_config",
        "healthz",
        "unknown",
    }
    assert emu.stats.requests["make_call"] == 3
    assert emu.stats.calls_placed == 1
    assert emu.stats.inbound_calls == 1


async def test_keys_and_identity() -> None:
    async with Emulator() as one, Emulator() as two:
        assert one.api_key.startswith("sk_test_")
        assert one.api_key != two.api_key
        assert one.admin_key != one.api_key
        assert one.port != two.port
        assert one.api_key not in repr(one) and one.admin_key not in repr(one)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", one.base_url)
    async with Emulator(api_key="k1", admin_key="k2", tenant_id="tn_x") as emu:
        assert (emu.api_key, emu.admin_key, emu.tenant_id) == ("k1", "k2", "tn_x")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_fixed_port_and_start_close_rules(http: aiohttp.ClientSession) -> None:
    port = _free_port()
    emu = Emulator(port=port)
    with pytest.raises(RuntimeError, match="not started"):
        _ = emu.base_url
    assert await emu.start() is emu
    assert emu.base_url == f"http://127.0.0.1:{port}"
    assert (await request(http, "GET", emu.base_url + "/healthz")).status == 200
    with pytest.raises(RuntimeError):
        await emu.start()
    await asyncio.gather(emu.close(), emu.close())
    await emu.close()
    with pytest.raises(RuntimeError):
        await emu.start()
    await Emulator().close()  # closing a never-started emulator is fine


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        Emulator(sessions=-1)
    with pytest.raises(ValueError):
        Emulator(event_interval=-0.5)
    with pytest.raises(ValueError):
        Emulator().insert_sessions(-1)


def test_main_reports_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    assert "error:" in capsys.readouterr().err


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_cli_runs_in_the_foreground_until_a_signal(
    http: aiohttp.ClientSession, signum: signal.Signals
) -> None:
    given_key = signum == signal.SIGTERM
    args = ["--port", "0", "--sessions", "5", "--seed", "2"]
    if given_key:
        args += ["--api-key", "sk_test_given_key_9876"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voice_async.testing",
        *args,
        env=_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    banner = []
    try:
        while not banner or "Ctrl-C" not in banner[-1]:
            line = await asyncio.wait_for(proc.stdout.readline(), 10)
            assert line, "the emulator exited early"
            banner.append(line.decode())
        text = "".join(banner)
        base_url = re.search(r"STATESET_VOICE_BASE_URL=(\S+)", text)
        api_key = re.search(r"STATESET_VOICE_API_KEY=(\S+)", text)
        assert base_url and "STATESET_ADMIN_API_KEY=sk_admin_" in text
        if given_key:
            # A user-supplied key is never printed, not even masked (issue 13).
            assert api_key is None and "9876" not in text
            assert "the key you passed with --api-key" in text
            key = "sk_test_given_key_9876"
        else:
            assert api_key
            key = api_key.group(1)
        reply = await request(
            http,
            "GET",
            base_url.group(1) + "/api/v1/voice-sessions",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert reply.json()["total"] == 5
    finally:
        proc.send_signal(signum)
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0, err.decode()
    assert "emulator stopped" in out.decode()
