"""R3 (responses): whatever a server or proxy answers, the SDK ends in one of two ways.

Either it decodes tolerantly (unknown enum values kept as strings, extra fields
kept in ``extra``, the envelope variants the contract allows), or it raises one
of its own typed errors.  It never hangs and never lets an ``aiohttp``,
``json``, ``cattrs`` or ``RecursionError`` escape.  Bodies come from a scripted
loopback server (real sockets); byte-level breakage from a raw TCP server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voice_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    BadRequestError,
    Call,
    EventGapError,
    EventStreamError,
    InternalServerError,
    RateLimitError,
    Runtime,
    RuntimeConfig,
    SessionNotFoundError,
    SessionPage,
    StreamUnauthorizedError,
    VoiceError,
    VoiceSession,
)

from . import _payloads as p
from ._servers import RawServer, Reply, ScriptedServer
from .conftest import client_on, outcome

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000  # valid JSON, deeper than the recursion limit

Expect = type[VoiceError] | Callable[[Any], object]


def check(result: Any, expect: Expect) -> None:
    if isinstance(expect, type):
        assert isinstance(result, expect), f"expected {expect.__name__}, got {result!r}"
        assert len(str(result)) <= 1_000, "error messages must stay short"
    else:
        assert not isinstance(result, BaseException), f"expected a tolerant decode: {result!r}"
        expect(result)


# -- bodies that break any endpoint ---------------------------------------------

GENERIC: dict[str, tuple[Reply, Expect]] = {
    "html_502_page": (Reply(502, NGINX_502, "text/html"), InternalServerError),
    "html_page_with_200": (Reply(200, NGINX_502, "text/html"), APIResponseValidationError),
    "empty_200": (Reply(200, b""), APIResponseValidationError),
    "empty_500": (Reply(500, b"", "text/plain"), InternalServerError),
    "no_content_204": (Reply(204, b""), APIResponseValidationError),
    "json_null": (Reply(200, b"null"), APIResponseValidationError),
    "json_string": (Reply(200, b'"ok"'), APIResponseValidationError),
    "json_number": (Reply(200, b"42"), APIResponseValidationError),
    "array_of_numbers": (Reply(200, b"[1, 2, 3]"), APIResponseValidationError),
    "invalid_utf8": (Reply(200, b'{"id": "\xff\xfe"}'), APIResponseValidationError),
    "deeply_nested_json": (Reply(200, DEEP_JSON), APIResponseValidationError),
    "deeply_nested_error_body": (Reply(503, DEEP_JSON), InternalServerError),
    "error_not_an_object": (Reply(400, b'{"error": "just a string"}'), BadRequestError),
    "error_fields_wrong_types": (
        Reply(
            429,
            b'{"error": {"type": 5, "message": ["x"], "param": {}}}',
            headers={"Retry-After": "soon"},
        ),
        RateLimitError,
    ),
    "redirect_without_location": (Reply(302, b""), APIStatusError),
    "unknown_status_299": (Reply(299, b"{}"), APIResponseValidationError),
    "huge_error_body": (Reply(500, b"x" * 2_000_000, "text/plain"), InternalServerError),
}


@pytest.mark.parametrize("case", list(GENERIC))
@pytest.mark.parametrize("op_name", list(p.OPS))
async def test_broken_bodies_give_typed_errors(
    scripted: ScriptedServer, op_name: str, case: str
) -> None:
    op, _ = p.OPS[op_name]
    scripted.reply, expect = GENERIC[case]
    async with client_on(scripted.base_url) as client:
        result = await outcome(op(client))
    check(result, expect)
    if isinstance(result, (APIStatusError, APIResponseValidationError)):
        assert len(result.body_excerpt) <= 200


async def test_truncated_json_of_every_valid_body(scripted: ScriptedServer) -> None:
    """Every prefix of a valid answer is a typed error (or, rarely, still valid JSON)."""
    async with client_on(scripted.base_url, max_retries=0) as client:
        for op, valid in p.OPS.values():
            body = p.encode(valid)
            for cut in range(0, len(body), 7):
                scripted.reply = Reply(200, body[:cut])
                check(await outcome(op(client)), APIResponseValidationError)


# -- per endpoint: wrong JSON types are errors, the unexpected-but-harmless is not ------


def _without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in names}


WRONG_TYPES: dict[str, list[Any]] = {
    "make_call": [
        {**p.CALL, "session_id": 5},
        {**p.CALL, "created_at": 1732548600},
        {**p.CALL, "created_at": "yesterday"},
        {**p.CALL, "metadata": "x"},
        {**p.CALL, "status": None},
        {**p.CALL, "to": ["+15555555678"]},
        _without(p.CALL, "session_id"),
    ],
    "get_session": [
        {**p.SESSION, "id": None},
        {**p.SESSION, "duration_seconds": "186"},
        {**p.SESSION, "duration_seconds": True},
        {**p.SESSION, "metadata": []},
        {**p.SESSION, "direction": 1},
        {**p.SESSION, "started_at": {"t": 1}},
        _without(p.SESSION, "created_at"),
    ],
    "list_sessions": [
        {"data": "x"},
        {"data": {"a": 1}},
        {"data": [p.SESSION, 5]},
        {"data": [{**p.SESSION, "id": 7}]},
        {"data": [p.SESSION], "total": "1"},
        {"data": [p.SESSION], "has_more": "no"},
        {"page": [p.SESSION]},
    ],
    "get_config": [
        {**p.CONFIG, "version": "4"},
        {**p.CONFIG, "version": 4.5},
        {**p.CONFIG, "temperature": "hot"},
        {**p.CONFIG, "tenant_id": None},
        _without(p.CONFIG, "version"),
    ],
}


@pytest.mark.parametrize(
    ("op_name", "body"),
    [(name, body) for name, bodies in WRONG_TYPES.items() for body in bodies],
)
async def test_wrong_json_types_are_validation_errors(
    scripted: ScriptedServer, op_name: str, body: Any
) -> None:
    scripted.reply = Reply(200, p.encode(body))
    async with client_on(scripted.base_url) as client:
        check(await outcome(p.OPS[op_name][0](client)), APIResponseValidationError)


def _session_of(result: Any) -> VoiceSession:
    return result.data[0] if isinstance(result, SessionPage) else result


TOLERATED: list[tuple[str, Any, Callable[[Any], object]]] = [
    ("make_call", {**p.CALL, "status": "on_hold"}, lambda c: c.status == "on_hold"),
    ("make_call", {**p.CALL, "new_field": {"x": 1}}, lambda c: c.extra == {"new_field": {"x": 1}}),
    ("make_call", _without(p.CALL, "call_sid", "metadata"), lambda c: c.call_sid is None),
    (
        "get_session",
        {**p.SESSION, "status": "on_hold", "direction": "sideways"},
        lambda s: (s.status, s.direction) == ("on_hold", "sideways"),
    ),
    (
        "get_session",
        {**p.SESSION, "recording_url": None, "tags": ["a"]},
        lambda s: s.extra == {"recording_url": None, "tags": ["a"]},
    ),
    (
        "get_session",
        _without(p.SESSION, "tenant_id", "started_at", "ended_at", "duration_seconds", "call_sid"),
        lambda s: s.started_at is None and s.duration_seconds is None,
    ),
    (
        "get_session",
        {**p.SESSION, "created_at": "2026-11-25T15:30:00.1234567+02:00"},
        lambda s: s.created_at.utcoffset() is not None,
    ),
    (
        "get_session",
        {**p.SESSION, "created_at": "2026-11-25T15:30:00"},
        lambda s: s.created_at.tzinfo is not None,
    ),
    (
        "get_session",
        {**p.SESSION, "metadata": {"blob": "x" * 1_000_000}},
        lambda s: len(s.metadata["blob"]) == 1_000_000,
    ),
    ("list_sessions", [p.SESSION], lambda page: len(page.data) == 1),
    ("list_sessions", {"sessions": [p.SESSION]}, lambda page: page.total is None),
    ("list_sessions", {"items": [p.SESSION], "cursor": "abc"}, lambda page: len(page.data) == 1),
    (
        "list_sessions",
        {"data": [{**p.SESSION, "status": "archived"}]},
        lambda page: page.data[0].status == "archived",
    ),
    ("get_config", {"tenant_id": "tn_123", "version": 1}, lambda c: c.model is None),
    ("get_config", {**p.CONFIG, "max_call_seconds": 1800.0}, lambda c: c.max_call_seconds == 1800),
    ("get_config", {**p.CONFIG, "region": "eu"}, lambda c: c.extra == {"region": "eu"}),
]


@pytest.mark.parametrize(("op_name", "body", "expect"), TOLERATED)
async def test_harmless_surprises_decode(
    scripted: ScriptedServer, op_name: str, body: Any, expect: Callable[[Any], object]
) -> None:
    scripted.reply = Reply(200, p.encode(body))
    async with client_on(scripted.base_url) as client:
        result = await outcome(p.OPS[op_name][0](client))
    check(result, lambda r: _assert(expect(r), r))
    assert isinstance(result, (Call, VoiceSession, SessionPage, RuntimeConfig))


def _assert(ok: object, result: Any) -> None:
    assert ok, f"decoded, but not as expected: {result!r}"


async def test_valid_json_under_a_wrong_content_type_decodes(scripted: ScriptedServer) -> None:
    scripted.reply = Reply(200, p.encode(p.SESSION), "text/html")
    async with client_on(scripted.base_url) as client:
        assert (await outcome(client.sessions.get("vs_01JD8Z6Q0A"))).id == "vs_01JD8Z6Q0A"


async def test_a_server_repeating_one_page_forever_does_not_hang_iteration(
    scripted: ScriptedServer,
) -> None:
    """``has_more`` always true but nothing new: the iterator must stop or fail."""
    scripted.reply = Reply(200, p.encode({**p.PAGE, "total": 10_000, "has_more": True}))
    async with client_on(scripted.base_url) as client:

        async def drain() -> list[VoiceSession]:
            return [s async for s in client.sessions.iter(limit=25)]

        result = await outcome(drain())
    assert isinstance(result, (list, VoiceError))
    if isinstance(result, list):
        assert [s.id for s in result] == [p.SESSION["id"]]


# -- byte-level breakage --------------------------------------------------------

RAW: dict[str, bytes] = {
    "closed_without_answer": b"",
    "not_http": b"garbage\r\n\r\n",
    "bad_status_line": b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n",
    "status_999": b"HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n",
    "negative_content_length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
    "body_shorter_than_length": b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"id"',
    "broken_chunking": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n",
    "bad_gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nabcde",
    "header_too_long": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    "binary_header": b"HTTP/1.1 200 OK\r\nX-Bin: \xff\xfe\x00\r\nContent-Length: 2\r\n\r\n{}",
}


@pytest.mark.parametrize("case", list(RAW))
async def test_byte_level_breakage_is_a_typed_error(raw_server: RawServer, case: str) -> None:
    raw_server.payload = RAW[case]
    async with client_on(raw_server.base_url) as client:
        result = await outcome(client.sessions.get("vs_1"))
    check(result, VoiceError)
    if case == "body_shorter_than_length":
        assert isinstance(result, APIConnectionError)


_STATUS_LINES = st.sampled_from(
    [b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 503 Service Unavailable\r\n", b"HTTP/1.0 404 X\r\n"]
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(head=_STATUS_LINES, rest=st.binary(max_size=300))
async def test_fuzzed_raw_responses(raw_server: RawServer, head: bytes, rest: bytes) -> None:
    raw_server.payload = head + rest
    async with client_on(raw_server.base_url, max_retries=0) as client:
        result = await outcome(client.sessions.get("vs_1"))
    assert isinstance(result, (VoiceSession, VoiceError))


# -- the events WebSocket --------------------------------------------------------

ENDED = p.event(2, "session.ended")
FRAMES: dict[str, tuple[list[str | bytes], int, Expect]] = {
    "not_json": (["not json"], 1000, APIResponseValidationError),
    "binary_garbage": ([b"\x00\xff\xfe"], 1000, APIResponseValidationError),
    "json_array": (["[1, 2]"], 1000, APIResponseValidationError),
    "seq_is_a_string": ([p.event(1, seq="1")], 1000, APIResponseValidationError),
    "type_is_a_number": ([p.event(1, type=5)], 1000, APIResponseValidationError),
    "missing_ts": (
        [json.dumps({"type": "x", "session_id": "vs_1", "seq": 1})],
        1000,
        APIResponseValidationError,
    ),
    "typed_data_wrong": (
        [p.event(1, data={"role": 1, "text": None})],
        1000,
        APIResponseValidationError,
    ),
    "deeply_nested": ([DEEP_JSON.decode()[:200_000]], 1000, APIResponseValidationError),
    "gap": ([p.event(1), p.event(3)], 1000, EventGapError),
    "close_4001": ([], 4001, StreamUnauthorizedError),
    "close_4004": ([], 4004, SessionNotFoundError),
    "close_policy_1008": ([p.event(1)], 1008, EventStreamError),
    "close_3000": ([], 3000, EventStreamError),
    "transient_close_forever": ([p.event(1)], 1011, EventStreamError),
    "unknown_type_and_extras": (
        [p.event(1, "future.thing", shard=7), ENDED],
        1000,
        lambda events: [e.type for e in events] == ["future.thing", "session.ended"],
    ),
    "duplicates_dropped": (
        [p.event(1), p.event(1), ENDED, ENDED],
        1000,
        lambda events: [e.seq for e in events] == [1, 2],
    ),
    # 1000 without session.ended is a drop, not the end: no progress -> the limit
    "normal_close_without_end": ([p.event(1)], 1000, EventStreamError),
}


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


@pytest.mark.parametrize("case", list(FRAMES))
async def test_broken_event_streams(scripted: ScriptedServer, case: str) -> None:
    scripted.frames, scripted.close_code, expect = FRAMES[case]
    async with client_on(scripted.base_url, runtime=Runtime(sleep=_no_wait)) as client:

        async def collect() -> list[Any]:
            return [event async for event in client.sessions.events("vs_1")]

        check(await outcome(collect()), expect)
