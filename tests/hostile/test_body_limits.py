"""Bounded response bodies (issue 11.1): ``max_response_bytes`` caps memory, not the API.

An endless or oversized body, success or error, ends in
:class:`ResponseTooLargeError` while it streams in: memory stays near the cap,
the connection is dropped (never returned to the pool with a body on it),
and the call is not retried.
"""

from __future__ import annotations

import time

import pytest

from voice_async import (
    APIResponseValidationError,
    Call,
    InternalServerError,
    ResponseTooLargeError,
)

from ._http_servers import (
    HostileServer,
    RssSampler,
    chunked_reply,
    compressed_reply,
    endless_body,
    gzip_bomb,
    json_reply,
    raw_reply,
    sized_json,
)
from .conftest import CALL, CALL_BODY, hostile_client, outcome

MiB = 2**20


@pytest.mark.parametrize("status", [200, 500])
async def test_endless_body_is_cut_at_the_cap(hostile: HostileServer, status: int) -> None:
    """An endless chunked answer (success or error): typed, fast, < 50 MB, one request."""
    hostile.handler = endless_body(status)
    async with hostile_client(hostile) as client:
        started = time.monotonic()
        async with RssSampler() as memory:
            # sessions.get is a GET: retry-safe, so only the policy can stop a retry.
            result = await outcome(client.sessions.get("vs_endless"))
        elapsed = time.monotonic() - started
        assert isinstance(result, ResponseTooLargeError), result
        assert isinstance(result, APIResponseValidationError)
        assert result.limit == 10 * MiB and result.status == status
        assert "max_response_bytes" in str(result)
        assert hostile.requests == 1, "an oversized body must not be retried"
        assert memory.growth < 50 * MiB, f"RSS grew {memory.growth / MiB:.1f} MiB"
        assert elapsed < 15.0
        # The connection was dropped, not pooled with an unread body on it.
        assert await hostile.wait_connections(0)
        assert hostile.hung_up.is_set()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_20_mib_body_fails_by_default_and_passes_with_a_larger_cap(
    hostile: HostileServer, framing: str
) -> None:
    body = sized_json(20 * MiB, CALL_BODY)
    hostile.handler = json_reply(body) if framing == "content-length" else chunked_reply(body)
    async with hostile_client(hostile) as client:
        result = await outcome(client.make_call(**CALL))
    assert isinstance(result, ResponseTooLargeError) and hostile.requests == 1
    async with hostile_client(hostile, max_response_bytes=64 * MiB) as client:
        call = await outcome(client.make_call(**CALL))
    assert isinstance(call, Call) and len(call.metadata["blob"]) > 19 * MiB


async def test_a_declared_length_over_the_cap_fails_before_reading(
    hostile: HostileServer,
) -> None:
    """A ``Content-Length`` past the cap is refused up front: nothing is buffered."""
    hostile.handler = json_reply(sized_json(3 * MiB, CALL_BODY))
    async with hostile_client(hostile, max_response_bytes=MiB) as client, RssSampler() as memory:
        result = await outcome(client.make_call(**CALL))
    assert isinstance(result, ResponseTooLargeError) and result.limit == MiB
    assert memory.growth < 50 * MiB
    assert await hostile.wait_connections(0)


async def test_an_oversized_error_body_is_not_a_status_error(hostile: HostileServer) -> None:
    """The cap applies before the status is interpreted: a huge 500 is not retried."""
    hostile.handler = chunked_reply(b"x" * (2 * MiB), status=500)
    async with hostile_client(hostile, max_response_bytes=MiB) as client:
        result = await outcome(client.sessions.get("vs_1"))
    assert isinstance(result, ResponseTooLargeError) and result.status == 500
    assert not isinstance(result, InternalServerError)
    assert hostile.requests == 1


async def test_a_body_exactly_at_the_cap_is_accepted(hostile: HostileServer) -> None:
    body = sized_json(64 * 1024, CALL_BODY)
    hostile.handler = chunked_reply(body, status=201)
    async with hostile_client(hostile, max_response_bytes=len(body)) as client:
        call = await outcome(client.make_call(**CALL))
    assert isinstance(call, Call)
    async with hostile_client(hostile, max_response_bytes=len(body) - 1) as client:
        assert isinstance(await outcome(client.make_call(**CALL)), ResponseTooLargeError)


async def test_the_pool_keeps_working_after_a_discarded_connection(
    hostile: HostileServer,
) -> None:
    async with hostile_client(hostile, max_response_bytes=MiB) as client:
        hostile.handler = endless_body()
        assert isinstance(await outcome(client.sessions.get("vs_1")), ResponseTooLargeError)
        hostile.handler = json_reply(CALL_BODY, status=201)
        assert isinstance(await outcome(client.make_call(**CALL)), Call)


async def test_a_gzip_bomb_is_cut_at_the_cap_without_inflating_it(hostile: HostileServer) -> None:
    """128 MiB of zeros in 128 KB of gzip: inflated only up to the cap, never retried."""
    hostile.handler = gzip_bomb(2**27)
    async with hostile_client(hostile) as client:
        started = time.monotonic()
        async with RssSampler(every=0.001) as memory:
            result = await outcome(client.sessions.get("vs_bomb"))
    assert isinstance(result, ResponseTooLargeError) and hostile.requests == 1
    assert memory.growth < 50 * MiB, f"RSS grew {memory.growth / MiB:.1f} MiB"
    assert time.monotonic() - started < 15.0


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_answers_decode(hostile: HostileServer, encoding: str) -> None:
    hostile.handler = compressed_reply(sized_json(200_000, CALL_BODY), encoding, status=201)
    async with hostile_client(hostile) as client:
        call = await outcome(client.make_call(**CALL))
    assert isinstance(call, Call) and len(call.metadata["blob"]) > 190_000
    assert hostile.request_headers[-1]["Accept-Encoding"] == "gzip, deflate"


async def test_broken_or_unasked_encodings_are_typed(hostile: HostileServer) -> None:
    async with hostile_client(hostile, max_retries=0) as client:
        hostile.handler = compressed_reply(sized_json(5_000, CALL_BODY), corrupt=True)
        corrupt = await outcome(client.make_call(**CALL))
        hostile.handler = raw_reply(b"\x8b\x00garbage", headers={"Content-Encoding": "br"})
        unasked = await outcome(client.make_call(**CALL))
    assert isinstance(corrupt, APIResponseValidationError) and "gzip" in str(corrupt)
    assert isinstance(unasked, APIResponseValidationError) and "'br'" in str(unasked)
