"""No raw Python exception escapes (issue 11.2, HTTP side and the events handshake).

A server may send numbers and dates no calendar or float holds: a zone offset
of twenty digits (``OverflowError`` in the date parser), year 1 and year 9999
with offsets that push them out of range, ``NaN``, ``Infinity``, 5,000-digit
numbers in headers and bodies.  Each ends in the SDK's own typed error (or a
success), never in ``OverflowError``/``ValueError``, and within a time bound.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from voice_async import (
    APIConnectionError,
    APIResponseValidationError,
    EventStreamError,
    EventStreamOptions,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    VoiceError,
)

from ._http_servers import HostileServer, json_reply, raw_reply
from .conftest import CALL, hostile_client, outcome

EXTREME_RETRY_AFTER = [
    "Mon, 01 Jan 2024 00:00:00 +99999999999999999999",
    "Mon, 01 Jan 2024 00:00:00 -99999999999999999999",
    "Fri, 31 Dec 9999 23:59:59 -2359",
    "Mon, 01 Jan 0001 00:00:00 +2359",
    "Sun, 31 Dec 10000 00:00:00 GMT",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1",
    "9" * 5_000,
    "-" + "9" * 5_000,
    str(2**64),
]


@pytest.mark.parametrize("value", EXTREME_RETRY_AFTER, ids=lambda v: v[:30])
@pytest.mark.parametrize("header", ["Retry-After", "retry-after-ms"])
async def test_extreme_retry_after_on_http(hostile: HostileServer, header: str, value: str) -> None:
    hostile.handler = json_reply({"error": {"type": "rate_limited"}}, 429, {header: value})
    async with hostile_client(hostile) as client:
        started = time.monotonic()
        result = await outcome(client.sessions.get("vs_1"))
    assert isinstance(result, RateLimitError), result
    assert result.retry_after is None or 0 <= result.retry_after < math.inf
    assert hostile.requests in (1, 3)  # ignored (backoff, 3 attempts) or too long (raised)
    assert time.monotonic() - started < 10.0


@pytest.mark.parametrize("value", [*EXTREME_RETRY_AFTER[:3], "NaN", "9" * 5_000])
async def test_extreme_retry_after_on_the_events_handshake(
    hostile: HostileServer, value: str
) -> None:
    """The handshake reads ``Retry-After`` with the same parser: a 503 loop ends typed."""
    hostile.handler = json_reply({"error": {"type": "server_error"}}, 503, {"Retry-After": value})
    async with hostile_client(hostile, retry_policy=RetryPolicy(max_retries=2)) as client:

        async def drain() -> None:
            async for _ in client.sessions.events(
                "vs_1", options=EventStreamOptions(max_reconnects=2)
            ):
                pass

        result = await outcome(drain())
    assert isinstance(result, EventStreamError), result
    assert 1 <= hostile.requests <= 4


BODY_NUMBERS = ["1" + "0" * 5_000, "-" + "9" * 5_000, "NaN", "Infinity", "-Infinity", "1e400"]


@pytest.mark.parametrize("number", BODY_NUMBERS, ids=lambda v: v[:12])
async def test_extreme_numbers_in_bodies(hostile: HostileServer, number: str) -> None:
    """In a success body (every field) and in an error body: typed error or a model."""
    async with hostile_client(hostile) as client:
        body = (
            '{"session_id": "vs_1", "status": "queued", "to": "+15555555678", '
            '"from": "+15555551234", "agent_key": "a", "created_at": "2026-11-25T15:30:00Z", '
            f'"metadata": {{"n": {number}}}, "duration_seconds": {number}}}'
        ).encode()
        hostile.handler = raw_reply(body, status=201)
        result = await outcome(client.make_call(**CALL))
        assert not isinstance(result, BaseException) or isinstance(
            result, APIResponseValidationError
        )
        hostile.handler = raw_reply(
            f'{{"error": {{"type": {number}, "message": {number}}}}}'.encode(), status=500
        )
        assert isinstance(await outcome(client.sessions.get("vs_1")), InternalServerError)


async def test_content_length_of_5000_digits_is_a_connection_error() -> None:
    """A ``Content-Length`` no integer type holds: rejected by the HTTP parser, typed."""
    payload = b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5_000 + b"\r\n\r\n{}"
    server = await asyncio.start_server(_answer(payload), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with hostile_client(f"http://127.0.0.1:{port}", max_retries=0) as client:
            result = await outcome(client.sessions.get("vs_1"))
        assert isinstance(result, (APIConnectionError, APIResponseValidationError)), result
        assert isinstance(result, VoiceError)
    finally:
        server.close()
        await server.wait_closed()


def _answer(payload: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(payload)
        await writer.drain()
        writer.close()

    return serve
