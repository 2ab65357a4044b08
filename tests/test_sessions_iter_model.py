"""The iterator's state machine against an in-process model server.

The model server (not the emulator) lets a test control what a real server
only does by chance: answers that arrive out of order, head inserts landing
between two concurrent windows, servers that cap ``limit`` or read
``created_before`` differently.  End-to-end behaviour over real sockets is in
``test_pagination.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from voice_async import APIResponseValidationError, InvalidRequestError, VoiceSession
from voice_async._convert import parse_datetime, unstructure
from voice_async._pagination import Checkpoint, SessionIterator
from voice_async.resources.sessions import SessionFilters

from ._models import completed_session

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _session(number: int, created_at: datetime) -> VoiceSession:
    return completed_session(f"vs_{number:08d}", created_at)


class ModelServer:
    """``_request_page`` of a list that may grow at the head while it is paged.

    Each answer is computed after a random delay, so concurrent requests see
    the list at different moments, in any order.  ``insert_per_request``
    sessions are added before each answer; while ``same_second`` they land in
    the newest second (inside the iterator's one-second pin margin), otherwise
    a minute later (outside it).  ``same_second_requests`` models the clock:
    after that many requests the second is over, as it is on a real server.
    """

    def __init__(self, n: int, *, seed: int = 0) -> None:
        self.sessions = [_session(n - i, EPOCH - timedelta(minutes=i)) for i in range(n)]
        self.counter = n
        self.rng = random.Random(seed)
        self.max_delay = 0.0
        self.insert_per_request = 0
        self.same_second = True
        self.same_second_requests: int | None = None
        self.send_total = True
        self.cap: int | None = None
        self.bound_shift = timedelta(0)
        self.requests: list[tuple[int, int, str | None]] = []

    def insert(self, k: int) -> None:
        budget = self.same_second_requests
        if budget is not None and len(self.requests) > budget:
            self.same_second = False
        for _ in range(k):
            self.counter += 1
            newest = self.sessions[0].created_at if self.sessions else EPOCH
            at = newest if self.same_second else newest + timedelta(minutes=1)
            self.sessions.insert(0, _session(self.counter, at))

    def visible(self, filters: SessionFilters) -> list[VoiceSession]:
        bound = filters.params().get("created_before")
        if bound is None:
            return list(self.sessions)
        limit = parse_datetime(bound) - self.bound_shift
        return [s for s in self.sessions if s.created_at < limit]

    async def _request_page(self, filters: SessionFilters, *, limit: int, offset: int) -> Any:
        """The wire JSON of a page, as ``SessionsResource._request_page`` returns it."""
        self.requests.append((offset, limit, filters.params().get("created_before")))
        await asyncio.sleep(self.rng.uniform(0, self.max_delay))
        self.insert(self.insert_per_request)
        rows = self.visible(filters)
        data = [unstructure(s) for s in rows[offset : offset + min(limit, self.cap or limit)]]
        if not self.send_total:
            return data  # a bare array: no total, no has_more
        more = offset + len(data) < len(rows)
        return {
            "data": data,
            "limit": limit,
            "offset": offset,
            "total": len(rows),
            "has_more": more,
        }


def iterate(server: ModelServer, **options: Any) -> SessionIterator:
    filters = options.pop("filters", SessionFilters())
    return SessionIterator(server._request_page, filters, **options)


def fetch_tasks() -> list[asyncio.Task[Any]]:
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and "_request_page" in getattr(t.get_coro(), "__qualname__", "")
    ]


def assert_exact(got: list[VoiceSession], original: list[VoiceSession]) -> None:
    """No duplicates, newest first, and every pre-existing session present."""
    ids = [s.id for s in got]
    assert len(ids) == len(set(ids))
    keys = [(s.created_at, s.id) for s in got]
    assert keys == sorted(keys, reverse=True)
    missing = {s.id for s in original} - set(ids)
    assert not missing


@pytest.mark.parametrize("seed", range(40))
async def test_random_shifts_never_duplicate_or_miss(seed: int) -> None:
    rng = random.Random(seed)
    server = ModelServer(rng.randrange(0, 160), seed=seed)
    server.max_delay = 0.002
    page_size = rng.randrange(2, 16)
    server.insert_per_request = rng.randrange(0, page_size // 2 + 1)
    server.same_second = rng.random() < 0.7
    server.same_second_requests = rng.randrange(0, 30)
    original = list(server.sessions)
    it = iterate(
        server,
        limit=page_size,
        concurrency=rng.randrange(1, 9),
        prefetch=rng.random() < 0.8,
    )
    got = [s async for s in it]
    assert_exact(got, original)
    assert not fetch_tasks()


async def test_the_total_check_is_what_keeps_concurrent_windows_exact() -> None:
    """Windows answered out of order around an insert: the test that can fail.

    Window 3 is answered first, then 5 sessions are inserted in the pinned
    second, then window 2 is answered.  Taken at face value, window 2 would
    now overlap window 3 and 5 sessions would be lost between them.
    """
    server = ModelServer(40)
    window_3_answered = asyncio.Event()
    fetch = server._request_page

    async def ordered(filters: SessionFilters, *, limit: int, offset: int) -> Any:
        if offset == 20 and not window_3_answered.is_set():
            page = await fetch(filters, limit=limit, offset=offset)
            server.insert(5)
            window_3_answered.set()
            return page
        if offset == 10:
            await window_3_answered.wait()
        return await fetch(filters, limit=limit, offset=offset)

    server._request_page = ordered  # type: ignore[method-assign]
    original = list(server.sessions)
    it = iterate(server, limit=10, concurrency=3)
    got = [s async for s in it]
    assert_exact(got, original)
    assert it.resyncs >= 1
    assert it.duplicates_skipped == 5


async def test_sessions_created_behind_the_cursor_in_its_second_are_not_yielded() -> None:
    """Regression (found with 600 seeds of the random test above): an id-set cursor
    let a session created in the last yielded second through, out of order."""
    server = ModelServer(10)  # vs_00000010 at EPOCH, then a minute apart
    fetch = server._request_page

    async def inserting(filters: SessionFilters, *, limit: int, offset: int) -> Any:
        server.insert(1 if offset == 0 else 3 if offset == 2 else 0)  # all at EPOCH
        return await fetch(filters, limit=limit, offset=offset)

    server._request_page = inserting  # type: ignore[method-assign]
    got = [s.id async for s in iterate(server, limit=2, prefetch=False)]
    # Page 2 is [12, 11]: 12 was created after 10 was yielded and sorts before it.
    assert got == [f"vs_{n:08d}" for n in range(11, 0, -1)]


async def test_new_sessions_outside_the_pin_are_never_requested_back() -> None:
    server = ModelServer(95)
    server.insert_per_request = 4
    server.same_second = False  # each insert is a minute newer: outside the pin
    original = list(server.sessions)
    it = iterate(server, limit=10)
    got = [s async for s in it]
    first_inserts = ["vs_00000099", "vs_00000098", "vs_00000097", "vs_00000096"]
    assert [s.id for s in got] == first_inserts + [s.id for s in original]
    assert it.duplicates_skipped == 0
    pins = {bound for _, _, bound in server.requests[1:]}
    assert pins == {"2026-01-01T00:04:01Z"}  # newest (4th insert, +4 min) + 1 s


async def test_caller_created_before_is_kept_when_tighter_than_the_pin() -> None:
    server = ModelServer(30)
    bound = EPOCH - timedelta(minutes=10) + timedelta(milliseconds=500)
    it = iterate(server, limit=7, filters=SessionFilters(created_before=bound))
    got = [s async for s in it]
    assert len(got) == 20  # minutes -10 .. -29
    assert {b for _, _, b in server.requests} == {"2025-12-31T23:50:00.500000Z"}


async def test_caller_created_before_in_the_future_is_pinned() -> None:
    server = ModelServer(30)
    server.insert_per_request = 3
    server.same_second = False
    future = SessionFilters(created_before=EPOCH + timedelta(days=1))
    got = [s async for s in iterate(server, limit=7, filters=future)]
    assert len(got) == 33  # the 30 and the 3 inserted before the first answer
    bounds = [b for _, _, b in server.requests]
    assert bounds == ["2026-01-02T00:00:00Z"] + ["2026-01-01T00:03:01Z"] * 4


async def test_a_server_that_reads_the_pin_differently_is_detected() -> None:
    server = ModelServer(50)
    server.bound_shift = timedelta(minutes=5)  # drops 5 sessions the pin must keep
    original = list(server.sessions)
    it = iterate(server, limit=10, concurrency=4)
    got = [s async for s in it]
    assert_exact(got, original)
    assert it.created_before is None  # fell back to the cursor alone
    assert it.resyncs == 1


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_server_capping_the_page_size_is_followed_exactly(concurrency: int) -> None:
    server = ModelServer(53)
    server.cap = 7  # asked for 20, answers 7 with has_more
    got = [s async for s in iterate(server, limit=20, concurrency=concurrency)]
    assert [s.id for s in got] == [s.id for s in server.sessions]


async def test_without_total_paging_is_sequential_with_one_page_ahead() -> None:
    server = ModelServer(45)
    server.send_total = False
    server.max_delay = 0.001
    it = iterate(server, limit=10, concurrency=8)
    got = [s async for s in it]
    assert [s.id for s in got] == [s.id for s in server.sessions]
    offsets = [o for o, _, _ in server.requests]
    assert offsets == [0, 10, 20, 30, 40]  # short page 40..44 ends it, nothing speculative


async def test_limit_caps_yield_and_request_sizes() -> None:
    server = ModelServer(100)
    got = [s async for s in iterate(server, limit=30, max_items=45)]
    assert [s.id for s in got] == [s.id for s in server.sessions[:45]]
    assert [(o, n) for o, n, _ in server.requests] == [(0, 30), (30, 15)]


@pytest.mark.parametrize("swap", [3, 0])  # by created_at; by id within one second
async def test_unordered_page_raises_instead_of_skipping(swap: int) -> None:
    server = ModelServer(10)
    server.insert(2)  # vs_00000012, vs_00000011, vs_00000010 share EPOCH
    server.sessions[swap], server.sessions[swap + 1] = (
        server.sessions[swap + 1],
        server.sessions[swap],
    )
    it = iterate(server, limit=10)
    with pytest.raises(APIResponseValidationError, match="not ordered"):
        [s async for s in it]
    assert not fetch_tasks()


async def test_offset_not_honoured_raises() -> None:
    server = ModelServer(30)
    fetch = server._request_page

    async def ignores_offset(filters: SessionFilters, *, limit: int, offset: int) -> Any:
        return await fetch(filters, limit=limit, offset=0)  # reports offset 0

    server._request_page = ignores_offset  # type: ignore[method-assign]
    with pytest.raises(APIResponseValidationError, match="offset 10"):
        [s async for s in iterate(server, limit=10)]


async def test_pages_chain_by_next_offset() -> None:
    server = ModelServer(25)
    pages = [p async for p in iterate(server, limit=10).pages()]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [p.offset for p in pages] == [0, 10, 20]
    assert [p.next_offset for p in pages] == [10, 20, None]
    assert [p.total for p in pages] == [25, 25, 25]


async def test_pages_drop_the_duplicated_head_of_a_shifted_page() -> None:
    server = ModelServer(25)
    server.insert_per_request = 2  # in the pinned second: every page shifts by 2
    original = list(server.sessions)
    pages = [p async for p in iterate(server, limit=10).pages()]
    assert_exact([s for p in pages for s in p.data], original)
    assert [len(p) for p in pages] == [10, 8, 8, 1]
    for before, after in itertools.pairwise(pages):
        # next_offset is where the next request went; the next page starts
        # after the duplicates it dropped.
        assert before.next_offset == after.offset - 2
    assert pages[-1].next_offset is None


async def test_pages_and_items_cannot_be_mixed() -> None:
    it = iterate(ModelServer(5), limit=2)
    await it.__anext__()
    with pytest.raises(RuntimeError, match="not both"):
        await it.pages().__anext__()
    await it.aclose()


async def test_checkpoint_round_trips_and_resumes_exactly() -> None:
    server = ModelServer(60)
    it = iterate(server, limit=8)
    first = [await it.__anext__() for _ in range(21)]
    saved = Checkpoint.from_dict(it.checkpoint().to_dict())
    await it.aclose()
    assert saved.offset == 21
    server.insert(6)  # in the pinned second: shifts every later offset by 6
    rest = [s async for s in iterate(server, limit=8, resume=saved)]
    assert [s.id for s in first + rest] == [s.id for s in server.sessions[6:]]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"start_offset": -1}, "start_offset"),
        ({"max_items": -1}, "max_items"),
        ({"filters": SessionFilters(agent_key="bad key")}, "agent_key"),
        ({"start_offset": 3, "resume": Checkpoint(offset=4)}, "start_offset"),
    ],
)
def test_bad_options_fail_before_anything_is_sent(options: dict[str, Any], field: str) -> None:
    server = ModelServer(3)
    with pytest.raises(InvalidRequestError) as info:
        iterate(server, **options)
    assert info.value.field == field
    assert server.requests == []


def test_checkpoint_from_dict_validates() -> None:
    with pytest.raises(InvalidRequestError):
        Checkpoint.from_dict({"offset": -2})
    with pytest.raises(InvalidRequestError):
        Checkpoint.from_dict({"offset": 1, "cursor_ids": "vs_1"})
    with pytest.raises(InvalidRequestError):
        Checkpoint.from_dict({"offset": 1, "cursor_created_at": "yesterday"})
