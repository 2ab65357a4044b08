"""Secrets never appear, even when the server echoes them (issue 11.4, HTTP side).

The hostile server copies the caller's key into ``x-request-id``, header
values, a header *name*, repeated ``Set-Cookie`` headers, ``Location``,
``Retry-After`` and every field of the error body.  Neither key may then show
in ``str()``/``repr()`` of the error, any of its attributes (``request_id``,
``headers`` names and values, ``body_excerpt``, ...), its formatted
traceback, or any log record at DEBUG.  Repeated headers stay repeated.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import pytest
from aiohttp import web

from voice_async import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    EventStreamOptions,
    ResponseTooLargeError,
    VoiceError,
)

from ._http_servers import HostileServer, echo_credentials, endless_body
from .conftest import ADMIN_KEY, API_KEY, CALL, SECRETS, hostile_client, outcome


def _strings_of(error: BaseException | None, *, context: bool = True) -> list[str]:
    """Every string a user could see from an error, its chained errors included.

    ``__context__`` counts even when suppressed (``raise ... from None``):
    it stays reachable, and error trackers may walk it.
    """
    if error is None:
        return []
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for name, value in vars(error).items():
        texts.append(f"{name}={value!r}")
        texts.append(f"{name}={getattr(value, 'doc', '')!r}")  # JSONDecodeError keeps the body
    headers = getattr(error, "headers", None)
    if headers is not None:
        texts += [f"{k}: {v}" for k, v in headers.items()]
    texts += _strings_of(error.__cause__, context=context)
    return texts + (_strings_of(error.__context__) if context else [])


def _assert_clean(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"key leaked in: {text[:300]!r}"
            assert secret[:16] not in text and secret[-16:] not in text


def _operations(client: Any) -> dict[str, Any]:
    return {
        "make_call": lambda: client.make_call(**CALL),
        "sessions.get": lambda: client.sessions.get("vs_1"),
        "sessions.list": lambda: client.sessions.list(),
        "admin.get": lambda: client.admin.get_runtime_config("tn_1"),
        "admin.update": lambda: client.admin.update_runtime_config("tn_1", voice="alloy"),
    }


@pytest.mark.parametrize("status", [401, 429, 302, 503])
async def test_echoed_keys_are_masked_in_status_errors(
    hostile: HostileServer, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    hostile.handler = echo_credentials(status)
    caplog.set_level(logging.DEBUG)
    async with hostile_client(hostile) as client:
        for name, op in _operations(client).items():
            error = await outcome(op())
            assert isinstance(error, APIStatusError) and error.status == status, name
            assert error.request_id == "req_****"
            assert error.headers.getall("Set-Cookie") == ["a=****", "b=****"]
            assert error.headers["X-Debug-Key"] == "****" and "X-****" in error.headers
            assert error.error_type == "****" and error.param == "****"
            _assert_clean(_strings_of(error))
    # The server really did echo them: the test would catch a leak.
    assert hostile.requests >= 5
    _assert_clean([r.getMessage() for r in caplog.records])
    _assert_clean([caplog.text])


async def test_echoed_keys_are_masked_in_undecodable_successes(
    hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A 2xx whose body echoes the key but is not the model: the validation error is clean.

    Decoding goes through ``_response.parse`` (or, for a page, its
    ``masked_decode_error``), which rebuilds the decoder's message and
    excerpt from the masked body.
    """
    caplog.set_level(logging.DEBUG)
    async with hostile_client(hostile, max_retries=0) as client:
        for body_status in (True, False):
            hostile.handler = echo_credentials(200, body_status)
            for name, op in _operations(client).items():
                error = await outcome(op())
                assert isinstance(error, APIResponseValidationError), (name, error)
                _assert_clean(_strings_of(error))
    _assert_clean([caplog.text])


async def test_echoed_request_id_is_masked_on_an_oversized_body(
    hostile: HostileServer,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        key = request.headers["Authorization"].removeprefix("Bearer ")
        return await endless_body(headers={"x-request-id": f"req_{key}"})(request)

    hostile.handler = handler
    async with hostile_client(hostile, max_response_bytes=2**20) as client:
        error = await outcome(client.sessions.get("vs_1"))
    assert isinstance(error, ResponseTooLargeError)
    assert error.request_id == "req_****"
    _assert_clean(_strings_of(error))


async def test_a_key_quoted_by_the_http_parser_is_masked() -> None:
    """A status line or header name carrying the key: aiohttp quotes it; we mask it."""
    for payload in (
        b"HTTP/1.1 2" + API_KEY.encode() + b" OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + ADMIN_KEY.encode() + b"\r\nContent-Length: 2\r\n\r\n{}",
    ):

        async def serve(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes = payload
        ) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(payload)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with hostile_client(f"http://127.0.0.1:{port}", max_retries=0) as client:
                error = await outcome(client.sessions.get("vs_1"))
            assert isinstance(error, APIConnectionError) and "****" in str(error)
            _assert_clean(_strings_of(error))
        finally:
            server.close()
            await server.wait_closed()


async def test_api_error_is_what_came_from_the_server(hostile: HostileServer) -> None:
    """``except APIError`` catches server trouble, not bad arguments or a missing key."""
    hostile.handler = echo_credentials(401)
    async with hostile_client(hostile) as client:
        error = await outcome(client.sessions.get("vs_1"))
        assert isinstance(error, AuthenticationError) and isinstance(error, APIError)
        bad = await outcome(client.sessions.get("../etc"))
        assert isinstance(bad, VoiceError) and not isinstance(bad, APIError)


async def _refused_handshake(hostile: HostileServer, status: int) -> Any:
    hostile.handler = echo_credentials(status)
    async with hostile_client(hostile) as client:

        async def drain() -> None:
            async for _ in client.sessions.events(
                "vs_1", options=EventStreamOptions(max_reconnects=1)
            ):
                pass

        return await outcome(drain())


@pytest.mark.parametrize("status", [401, 404, 500])
async def test_echoed_keys_are_masked_in_a_refused_events_handshake(
    hostile: HostileServer, status: int
) -> None:
    """The handshake's error body and headers go through the same masking."""
    error = await _refused_handshake(hostile, status)
    assert isinstance(error, APIError), error
    assert hostile.requests >= 1
    _assert_clean(_strings_of(error, context=False))


async def test_a_refused_handshake_keeps_no_unmasked_context(hostile: HostileServer) -> None:
    error = await _refused_handshake(hostile, 401)
    _assert_clean(_strings_of(error))


async def test_echoed_keys_are_masked_in_the_handshake_debug_log(
    hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _refused_handshake(hostile, 401)
    _assert_clean([caplog.text])
