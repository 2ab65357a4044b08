"""``sessions.iter()`` against list servers that misbehave on purpose.

Every case must end: either with exactly the sessions the server has, or
with a typed error after a small, counted number of requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from voice_async import (
    APITimeoutError,
    AsyncVoiceClient,
    PaginationStalledError,
    RetryPolicy,
    VoiceSession,
)
from voice_async._pagination_core import MAX_EXPLAINED_STALLS, MAX_STALLED_PAGES

from ._ws_servers import API_KEY, PageHandler, PageServer, session

PAGE = 10
TIME_BOUND = 10.0  # seconds: a generous ceiling for a loaded machine, not a measurement


@pytest.fixture
def serve_pages() -> Callable[[PageHandler], Any]:
    """``async with serve_pages(handler) as (server, client)``."""

    def start(handler: PageHandler) -> Any:
        return _served(handler)

    return start


class _served:
    def __init__(self, handler: PageHandler) -> None:
        self.server = PageServer(handler)
        self.client: AsyncVoiceClient | None = None

    async def __aenter__(self) -> tuple[PageServer, AsyncVoiceClient]:
        await self.server.__aenter__()
        self.client = AsyncVoiceClient(
            api_key=API_KEY,
            base_url=self.server.base_url,
            retry_policy=RetryPolicy(max_retries=0),
        )
        return self.server, self.client

    async def __aexit__(self, *exc: object) -> None:
        assert self.client is not None
        await self.client.aclose()
        await self.server.__aexit__(None, None, None)


async def drain(iterator: AsyncIterator[VoiceSession]) -> list[str]:
    async def run() -> list[str]:
        return [s.id async for s in iterator]

    return await asyncio.wait_for(run(), TIME_BOUND)


FIRST_PAGE = [session(i) for i in range(PAGE)]
SHAPES: dict[str, Callable[[int, int], Any]] = {
    "envelope has_more": lambda offset, limit: {"data": FIRST_PAGE, "has_more": True},
    "bare array": lambda offset, limit: FIRST_PAGE,
    "envelope total, no has_more": lambda offset, limit: {"data": FIRST_PAGE, "total": 500},
    "total growing by one": lambda offset, limit: {"data": FIRST_PAGE, "total": 500 + offset // 10},
    # grows by a page each time, as inserts would: tolerated longer, still bounded
    "total growing by a page": lambda offset, limit: {"data": FIRST_PAGE, "total": 500 + offset},
}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("concurrency", [1, 4])
async def test_server_ignoring_offset_stops_with_typed_error(
    serve_pages: Any, shape: str, concurrency: int
) -> None:
    async with serve_pages(SHAPES[shape]) as (server, client):
        it = client.sessions.iter(limit=PAGE, concurrency=concurrency)
        seen: list[str] = []
        with pytest.raises(PaginationStalledError) as info:
            async with it:
                async for s in it:
                    seen.append(s.id)
            await asyncio.sleep(0)
    assert seen == [s["id"] for s in FIRST_PAGE]  # each once, never again
    bound = MAX_EXPLAINED_STALLS if shape == "total growing by a page" else MAX_STALLED_PAGES
    assert 1 <= info.value.stalled_pages <= bound
    # the first page, the stalled ones, and what was already in flight: bounded
    assert len(server.requests) <= 1 + bound + 2 * concurrency


async def test_same_total_proves_it_at_the_first_stalled_page(serve_pages: Any) -> None:
    async with serve_pages(SHAPES["envelope total, no has_more"]) as (server, client):
        with pytest.raises(PaginationStalledError) as info:
            await drain(client.sessions.iter(limit=PAGE, prefetch=False))
    assert info.value.stalled_pages == 1
    assert server.requests == [(0, PAGE), (PAGE, PAGE)]


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_total_without_has_more_pages_exactly(serve_pages: Any, concurrency: int) -> None:
    """The envelope with ``total`` but no ``has_more``: the end is ``offset + received``."""
    rows = [session(i) for i in range(45)]

    def handler(offset: int, limit: int) -> Any:
        return {"data": rows[offset : offset + limit], "total": len(rows)}

    async with serve_pages(handler) as (server, client):
        got = await drain(client.sessions.iter(limit=PAGE, concurrency=concurrency))
    assert got == [r["id"] for r in rows]
    assert sorted(o for o, _ in server.requests) == [0, 10, 20, 30, 40]  # no extra request


@pytest.mark.parametrize(
    "newest", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T22:00:00-05:00"]
)
async def test_newest_session_at_the_end_of_time(serve_pages: Any, newest: str) -> None:
    """The +1 s snapshot pin must not overflow: no pin is needed past the last date."""
    rows = [session(0, created_at=newest)] + [session(i) for i in range(1, 15)]

    def handler(offset: int, limit: int) -> Any:
        return {"data": rows[offset : offset + limit], "total": len(rows)}

    async with serve_pages(handler) as (_, client):
        it = client.sessions.iter(limit=PAGE)
        got = await drain(it)
    assert got == [r["id"] for r in rows]
    assert it.created_before is None  # nothing can be newer: the pin was skipped


async def test_start_offset_probe_at_the_end_of_time(serve_pages: Any) -> None:
    rows = [session(0, created_at="9999-12-31T23:59:59Z")] + [session(i) for i in range(1, 15)]

    def handler(offset: int, limit: int) -> Any:
        return {"data": rows[offset : offset + limit], "total": len(rows)}

    async with serve_pages(handler) as (_, client):
        got = await drain(client.sessions.iter(limit=PAGE, start_offset=5))
    assert got == [r["id"] for r in rows[5:]]


async def test_iter_timeout_applies_to_each_page(serve_pages: Any) -> None:
    """``iter(timeout=)`` bounds each page request, as ``list(timeout=)`` does."""
    rows = [session(i) for i in range(30)]

    def handler(offset: int, limit: int) -> Any:
        return {"data": rows[offset : offset + limit], "total": len(rows)}

    async with serve_pages(handler) as (server, client):
        server.delay = 3.0
        with pytest.raises(APITimeoutError):
            await drain(client.sessions.iter(limit=PAGE, timeout=0.2))
        server.delay = 0.0
        assert len(await drain(client.sessions.iter(limit=PAGE, timeout=5.0))) == 30
