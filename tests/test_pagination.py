"""``client.sessions.iter`` end to end: emulator on loopback, real sockets.

The reference order comes from raw aiohttp requests, not from the SDK, so
these tests do not grade the iterator by its own homework.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import typing
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest

from voice_async import (
    APIResponseValidationError,
    AsyncVoiceClient,
    Direction,
    InternalServerError,
    PaginationStalledError,
    RetryPolicy,
    SessionPage,
    SessionStatus,
    VoiceSession,
)
from voice_async._convert import RawPage
from voice_async._pagination import Checkpoint, SessionIterator, SessionPageIterator
from voice_async._pagination_core import (
    MAX_STALLED_PAGES,
    Answer,
    Cursor,
    PagePlanner,
    ProgressGuard,
    Window,
    pin_bound,
)
from voice_async.testing import Emulator

from ._models import completed_session

N = 537  # not a multiple of any page size used here
FAST_RETRIES = RetryPolicy(max_retries=2, initial_backoff=0.001, max_backoff=0.002)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=N, seed=5) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncVoiceClient]:
    async with AsyncVoiceClient(
        api_key=emu.api_key, base_url=emu.base_url, retry_policy=FAST_RETRIES
    ) as c:
        yield c


async def raw_ids(emu: Emulator, **params: str) -> list[str]:
    """Every id in list order, paged with plain aiohttp (nothing inserted meanwhile)."""
    ids: list[str] = []
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        while True:
            query = {"limit": "100", "offset": str(len(ids)), **params}
            url = f"{emu.base_url}/api/v1/voice-sessions"
            async with http.get(url, params=query) as resp:
                body = await resp.json()
            ids.extend(item["id"] for item in body["data"])
            if not body["has_more"]:
                return ids


def fetch_tasks() -> list[asyncio.Task[Any]]:
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and "_request_page" in getattr(t.get_coro(), "__qualname__", "")
    ]


def list_requests(emu: Emulator) -> int:
    return emu.stats.requests["list_sessions"]


def assert_newest_first_and_unique(sessions: list[VoiceSession]) -> None:
    keys = [(s.created_at, s.id) for s in sessions]
    assert keys == sorted(keys, reverse=True)
    assert len({s.id for s in sessions}) == len(sessions)


# -- exactness -------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_size", "concurrency", "prefetch"),
    [(7, 1, False), (7, 1, True), (100, 1, True), (33, 4, True), (100, 8, True)],
)
async def test_iterates_exactly_every_session_in_order(
    client: AsyncVoiceClient, emu: Emulator, page_size: int, concurrency: int, prefetch: bool
) -> None:
    expected = await raw_ids(emu)
    before = list_requests(emu)
    it = client.sessions.iter(limit=page_size, concurrency=concurrency, prefetch=prefetch)
    got = [s async for s in it]
    assert [s.id for s in got] == expected
    assert_newest_first_and_unique(got)
    assert list_requests(emu) - before == -(-N // page_size)  # no page skipped or wasted
    assert (it.total, it.offset, it.yielded, it.duplicates_skipped) == (N, N, N, 0)


async def test_page_size_dividing_the_total(emu: Emulator, client: AsyncVoiceClient) -> None:
    emu.insert_sessions(63)  # 600 in all
    got = [s.id async for s in client.sessions.iter(limit=100, concurrency=3)]
    assert got == await raw_ids(emu)
    assert list_requests(emu) == 6 + 6  # has_more=false on the 6th page ends it


async def test_concurrency_yields_the_same_sequence(client: AsyncVoiceClient) -> None:
    sequential = [s async for s in client.sessions.iter(limit=20)]
    concurrent = [s async for s in client.sessions.iter(limit=20, concurrency=8)]
    assert concurrent == sequential


async def test_limit_and_start_offset(client: AsyncVoiceClient, emu: Emulator) -> None:
    expected = await raw_ids(emu)
    before = list_requests(emu)
    got = [s.id async for s in client.sessions.iter(limit=100, max_items=25)]
    assert got == expected[:25]
    assert list_requests(emu) - before == 1
    middle = [s.id async for s in client.sessions.iter(limit=50, start_offset=200, max_items=120)]
    assert middle == expected[200:320]
    assert [s async for s in client.sessions.iter(max_items=0)] == []


@pytest.mark.parametrize(
    "filters",
    [
        {"status": SessionStatus.COMPLETED},
        {"direction": Direction.INBOUND},
        {"agent_key": "sales_outbound"},
        {"status": "no_answer", "direction": "outbound"},
    ],
)
async def test_filters(client: AsyncVoiceClient, filters: dict[str, Any]) -> None:
    everything = [s async for s in client.sessions.iter()]
    expected = [s for s in everything if all(getattr(s, k) == v for k, v in filters.items())]
    assert expected  # the filter selects something, and not everything
    assert len(expected) < len(everything)
    got = [s async for s in client.sessions.iter(limit=9, concurrency=3, **filters)]
    assert got == expected


async def test_time_window_filter(client: AsyncVoiceClient) -> None:
    everything = [s async for s in client.sessions.iter()]
    lo, hi = everything[400].created_at, everything[100].created_at
    got = [s async for s in client.sessions.iter(limit=40, created_after=lo, created_before=hi)]
    assert got == everything[101:400]  # the emulator's bounds are exclusive


# -- head insertion --------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_head_inserts_on_every_page(
    client: AsyncVoiceClient, emu: Emulator, concurrency: int
) -> None:
    existing = await raw_ids(emu)
    emu.faults.head_insert_on_page(3)
    it = client.sessions.iter(limit=10, concurrency=concurrency)
    got = [s async for s in it]
    assert_newest_first_and_unique(got)
    assert set(existing) <= {s.id for s in got}
    assert emu.total_sessions > N + 3  # the list really grew while we paged


async def test_inserts_while_the_caller_consumes(client: AsyncVoiceClient, emu: Emulator) -> None:
    existing = await raw_ids(emu)
    got: list[VoiceSession] = []
    async for session in client.sessions.iter(limit=25, concurrency=2):
        got.append(session)
        if len(got) % 40 == 0:
            emu.insert_sessions(9)
    assert_newest_first_and_unique(got)
    assert [s.id for s in got] == existing  # nothing new (pinned), nothing missed


# -- other list shapes -----------------------------------------------------


@pytest.mark.parametrize("shape", ["bare", "sessions", "items"])
@pytest.mark.parametrize("total", [N, 540])
async def test_shapes_without_total(
    client: AsyncVoiceClient, emu: Emulator, shape: str, total: int
) -> None:
    emu.insert_sessions(total - N)
    expected = await raw_ids(emu)
    emu.list_shape = shape
    before = list_requests(emu)
    it = client.sessions.iter(limit=20, concurrency=4)
    got = [s.id async for s in it]
    assert got == expected
    assert it.total is None
    # A short page ends it; a full last page costs one empty request.
    assert list_requests(emu) - before == total // 20 + 1


# -- failures ---------------------------------------------------------------


async def test_failed_pages_are_retried(client: AsyncVoiceClient, emu: Emulator) -> None:
    expected = await raw_ids(emu)
    before = list_requests(emu)
    emu.faults.script("503", "502_html", route="list_sessions")  # page 1: two retries
    it = client.sessions.iter(limit=50, prefetch=False)
    got = [(await it.__anext__()).id for _ in range(75)]
    emu.faults.script("reset", "truncated_json", route="list_sessions")  # page 3 likewise
    got += [s.id async for s in it]
    assert got == expected
    assert list_requests(emu) - before == 11 + 4


async def test_random_faults_with_concurrency(emu: Emulator) -> None:
    expected = await raw_ids(emu)
    emu.faults.fail_rate(0.3, route="list_sessions", seed=7)
    policy = RetryPolicy(max_retries=8, initial_backoff=0.001, max_backoff=0.002)
    async with AsyncVoiceClient(
        api_key=emu.api_key, base_url=emu.base_url, retry_policy=policy
    ) as c:
        got = [s.id async for s in c.sessions.iter(limit=20, concurrency=6)]
    assert got == expected
    assert sum(emu.stats.faults_injected.values()) > 5


async def test_a_page_that_keeps_failing_raises_and_resumes(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    expected = await raw_ids(emu)
    it = client.sessions.iter(limit=30, prefetch=False)
    got = [await it.__anext__() for _ in range(60)]
    emu.faults.script("500", "500", "500", route="list_sessions")  # 1 try + 2 retries
    with pytest.raises(InternalServerError):
        await it.__anext__()
    assert it.offset == 60  # the failed page's offset: nothing skipped
    assert not fetch_tasks()
    with pytest.raises(StopAsyncIteration):
        await it.__anext__()  # a failed iterator is finished
    rest = [s async for s in client.sessions.iter(resume=it.checkpoint(), limit=30)]
    assert [s.id for s in got + rest] == expected


async def test_concurrency_keeps_requests_at_the_server_while_the_consumer_lags(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    emu.faults.latency(0.02, route="list_sessions")
    async with client.sessions.iter(limit=10, concurrency=4) as it:
        await it.__anext__()
        await asyncio.sleep(0.3)  # a slow consumer: 4 answers land, 4 more are sent
        assert list_requests(emu) == 1 + 2 * 4  # and no more: 8 pages held at most
        assert len(fetch_tasks()) == 0
        got = [s.id async for s in it]
    assert len(got) == N - 1


# -- cancellation -----------------------------------------------------------


async def test_async_with_break_cancels_requests_in_flight(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    emu.faults.latency(0.3, route="list_sessions")
    started = time.monotonic()
    async with client.sessions.iter(limit=10, concurrency=8) as it:
        async for _ in it:
            assert len(fetch_tasks()) == 8  # the windows after the first page
            break
    assert not fetch_tasks()
    assert time.monotonic() - started < 0.3 * 2.5  # first page + no waiting for the rest


async def settle() -> None:
    """A few loop iterations: the asyncgen finalizer's aclose() task runs in them."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_no_finalizer_on_the_iterators() -> None:
    # PITFALLS (openai-python #1254): never close or schedule from __del__.
    assert "__del__" not in vars(SessionIterator)
    assert "__del__" not in vars(SessionPageIterator)


async def test_bare_break_cancels_requests_in_flight(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    emu.faults.latency(0.3, route="list_sessions")
    started = time.monotonic()
    async for _ in client.sessions.iter(limit=10, concurrency=4):
        assert len(fetch_tasks()) == 4
        break
    await settle()  # prefer `async with` for deterministic cleanup
    assert not fetch_tasks()
    assert time.monotonic() - started < 0.3 * 2.5  # first page, no waiting for the rest
    gc.collect()  # an unclosed response would warn here, and warnings are errors


async def test_leaving_the_loop_by_an_exception_cancels_too(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    emu.faults.latency(0.3, route="list_sessions")
    with pytest.raises(ZeroDivisionError):
        async for _ in client.sessions.iter(limit=10, prefetch=True):
            assert fetch_tasks()
            1 / 0  # noqa: B018
    await settle()
    assert not fetch_tasks()


async def test_bare_break_over_pages_cancels(client: AsyncVoiceClient, emu: Emulator) -> None:
    emu.faults.latency(0.3, route="list_sessions")
    async for _ in client.sessions.iter(limit=10, concurrency=3).pages():
        assert len(fetch_tasks()) == 3
        break
    await settle()
    assert not fetch_tasks()


async def test_iterating_again_after_break_continues_exactly(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    expected = await raw_ids(emu)
    emu.faults.latency(0.01, route="list_sessions")
    it = client.sessions.iter(limit=10, concurrency=4)
    head: list[str] = []
    async for session in it:
        head.append(session.id)
        if len(head) == 15:
            break
    await settle()
    assert not fetch_tasks()  # paused: nothing in flight ...
    rest = [s.id async for s in it]  # ... and nothing lost
    assert head + rest == expected


async def test_aclose_from_another_task_ends_the_loop_cleanly(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    emu.faults.latency(0.05, route="list_sessions")
    it = client.sessions.iter(limit=10, concurrency=4)
    seen: list[VoiceSession] = []
    enough = asyncio.Event()

    async def consume() -> None:
        async for session in it:
            seen.append(session)
            if len(seen) == 10:
                enough.set()

    task = asyncio.create_task(consume())
    await enough.wait()
    await asyncio.sleep(0.01)  # now waiting for a page (latency 50 ms)
    assert fetch_tasks()
    await it.aclose()  # e.g. a shutdown handler
    await asyncio.wait_for(task, 1)  # returns: no CancelledError leaks into the consumer
    assert not fetch_tasks()
    assert it.offset == len(seen)


async def test_cancelling_the_consumer_cancels_the_fetches(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    emu.faults.latency(0.05, route="list_sessions")
    seen: list[VoiceSession] = []
    enough = asyncio.Event()
    it = client.sessions.iter(limit=10, concurrency=4)

    async def consume() -> None:
        async for session in it:
            seen.append(session)
            if len(seen) == 25:
                enough.set()

    task = asyncio.create_task(consume())
    await enough.wait()
    await asyncio.sleep(0.01)  # now waiting for a page (latency 50 ms)
    assert fetch_tasks()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not fetch_tasks()
    assert it.offset == len(seen)  # the resume point is still exact
    rest = [s async for s in client.sessions.iter(resume=it.checkpoint())]
    assert [s.id for s in seen + rest] == await raw_ids(emu)


async def test_aclose_is_idempotent_and_final(client: AsyncVoiceClient) -> None:
    it = client.sessions.iter(limit=5)
    await it.__anext__()
    await it.aclose()
    await it.aclose()
    assert not fetch_tasks()
    assert [s async for s in it] == []


# -- pages, progress, export -------------------------------------------------


async def test_pages(client: AsyncVoiceClient, emu: Emulator) -> None:
    expected = await raw_ids(emu)
    async with client.sessions.iter(limit=100, concurrency=3) as it:
        pages = [page async for page in it.pages()]
    assert [len(p) for p in pages] == [100] * 5 + [37]
    assert [s.id for p in pages for s in p] == expected
    assert [p.next_offset for p in pages] == [100, 200, 300, 400, 500, None]


async def test_progress_is_known_after_the_first_session(client: AsyncVoiceClient) -> None:
    it = client.sessions.iter(limit=50)
    assert (it.total, it.offset) == (None, 0)
    await it.__anext__()
    assert (it.total, it.offset) == (N, 1)
    assert it.created_before is not None  # pinned to the snapshot
    await it.aclose()


def load_checkpoint(path: Path) -> Checkpoint | None:
    return Checkpoint.from_dict(json.loads(path.read_text())) if path.exists() else None


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    path.write_text(json.dumps(checkpoint.to_dict()))


async def export(
    client: AsyncVoiceClient, out: Path, state: Path, *, crash_after: int | None = None
) -> int:
    """A JSONL export that checkpoints after each written line (as a CLI would)."""
    resume = load_checkpoint(state)
    written = 0
    async with client.sessions.iter(limit=40, concurrency=4, resume=resume) as it:
        with out.open("a", encoding="utf-8") as fh:
            async for session in it:
                if written == crash_after:
                    raise RuntimeError("worker crashed")
                fh.write(json.dumps({"id": session.id, "created_at": str(session.created_at)}))
                fh.write("\n")
                fh.flush()
                save_checkpoint(state, it.checkpoint())
                written += 1
    return written


async def test_export_is_correct_and_resumable(
    client: AsyncVoiceClient, emu: Emulator, tmp_path: Path
) -> None:
    expected = await raw_ids(emu)
    out, state = tmp_path / "sessions.jsonl", tmp_path / "sessions.state.json"
    with pytest.raises(RuntimeError, match="crashed"):
        await export(client, out, state, crash_after=222)
    emu.insert_sessions(30)  # new calls arrive before the worker restarts
    assert await export(client, out, state) == N - 222
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == expected
    assert not fetch_tasks()


async def test_resume_from_a_plain_offset(client: AsyncVoiceClient, emu: Emulator) -> None:
    expected = await raw_ids(emu)
    it = client.sessions.iter(limit=64)
    head = [await it.__anext__() for _ in range(100)]
    offset, pin = it.offset, it.created_before
    await it.aclose()
    rest = [s async for s in client.sessions.iter(start_offset=offset, created_before=pin)]
    assert [s.id for s in head + rest] == expected


def test_iter_validates_before_anything_runs(client: AsyncVoiceClient) -> None:
    with pytest.raises(ValueError, match="limit"):
        client.sessions.iter(limit=500)
    with pytest.raises(TypeError):
        client.sessions.iter(page_size=50)  # type: ignore[call-arg]  # renamed in 0.2.0
    assert isinstance(client.sessions.iter(), SessionIterator)


# -- the sans-I/O core: planning and acceptance without sockets ----------------


def _raw(offset: int, n: int, *, total: int | None, limit: int = 10) -> RawPage:
    return RawPage(items=[{}] * n, limit=limit, offset=offset, total=total)


def _sessions(first: int, n: int) -> tuple[VoiceSession, ...]:
    """``n`` sessions, newest first, numbered from ``first`` (higher = older)."""
    at = datetime(2026, 11, 25, tzinfo=timezone.utc)
    return tuple(
        completed_session(f"vs_{10**6 - i:07d}", at - timedelta(seconds=i))
        for i in range(first, first + n)
    )


def test_planner_sends_prefetch_then_concurrent_windows() -> None:
    plan = PagePlanner(page_size=10, concurrency=4, prefetch=True, offset=0)
    first = plan.first_window(position=0, left=None)
    assert first is not None and (first.offset, first.limit, first.causal) == (0, 10, True)
    assert plan.accept(first, _raw(0, 10, total=95), pinned=False) is Answer.ACCEPT
    more = plan.more_windows(None, queued=0, in_flight=0, position=0, left=None)
    assert [(w.offset, w.causal) for w in more] == [
        (10, True),
        (20, False),
        (30, False),
        (40, False),
    ]
    # a window sized down near max_items, and nothing past total
    assert plan.window_size(90, position=85, left=10) == 5
    last = Window(90, 10, causal=False)
    assert plan.more_windows(last, queued=1, in_flight=0, position=0, left=None) == []


def test_planner_refuses_what_could_skip() -> None:
    plan = PagePlanner(page_size=10, concurrency=4, prefetch=True, offset=0)
    assert plan.accept(Window(0, 10, True), _raw(0, 10, total=95), pinned=False) is Answer.ACCEPT
    # a concurrent window seeing another total: the list moved between the two
    assert plan.accept(Window(10, 10, False), _raw(10, 10, total=96), pinned=False) is Answer.RESYNC
    # a short page moved the boundary: the next planned window no longer fits
    assert plan.accept(Window(10, 10, True), _raw(10, 7, total=95), pinned=False) is Answer.ACCEPT
    assert plan.accept(Window(20, 10, False), _raw(20, 10, total=95), pinned=False) is Answer.RESYNC
    # a pinned total below the unpinned one: the server reads the pin differently
    plan.base_total = 200
    assert plan.accept(Window(17, 10, True), _raw(17, 10, total=95), pinned=True) is Answer.UNPIN
    with pytest.raises(APIResponseValidationError, match="offset 17"):
        plan.accept(Window(17, 10, True), _raw(0, 10, total=95), pinned=False)


def test_pin_bound() -> None:
    head = SessionPage(_sessions(0, 2), 10, 0, 2, False)
    newest = head.data[0].created_at
    assert pin_bound(head, None) == newest + timedelta(seconds=1)
    assert pin_bound(head, newest) is None  # the caller's bound is tighter
    assert pin_bound(SessionPage((), 10, 0, 0, False), None) is None
    at_the_end = attrs.evolve(head.data[0], created_at=datetime.max.replace(tzinfo=timezone.utc))
    assert pin_bound(SessionPage((at_the_end,), 10, 0, 1, False), None) is None


def test_cursor_seen_prefix_agrees_with_is_new() -> None:
    """The per-page check the iterator relies on: only a leading run was yielded before."""
    page = _sessions(0, 10)
    assert Cursor().seen_prefix(page) == 0
    for last in range(10):
        cursor = Cursor()
        cursor.remember(page[last])
        seen = cursor.seen_prefix(page)
        assert seen == last + 1
        assert [cursor.is_new(s) for s in page] == [False] * seen + [True] * (10 - seen)
    assert cursor.seen_prefix(()) == 0
    # same created_at, ids decide: a session with a smaller id sorts after the cursor
    twins = tuple(attrs.evolve(s, created_at=page[0].created_at) for s in page[:3])
    cursor = Cursor(page[0].created_at, [twins[1].id])
    assert cursor.seen_prefix(twins) == 2


def test_progress_guard() -> None:
    def page(offset: int, first: int, n: int, total: int | None) -> SessionPage:
        return SessionPage(_sessions(first, n), 10, offset, total, True)

    cursor = Cursor()
    guard = ProgressGuard(0)
    guard.check(page(0, 0, 10, 100), cursor, last=False)
    cursor.remember(_sessions(9, 1)[0])
    # inserts explain duplicates: total grew by at least the offset advanced
    guard.check(page(10, 0, 10, 110), cursor, last=False)
    assert guard.explained == 1
    # more duplicates than the inserts explain: counted, not yet fatal
    guard.check(page(20, 0, 10, 110), cursor, last=False)
    assert guard.stalls == 1
    # nothing new and total as at the last progress: a server ignoring offset
    guard = ProgressGuard(0)
    guard.check(page(0, 0, 10, 100), cursor=Cursor(), last=False)
    with pytest.raises(PaginationStalledError) as proof:
        guard.check(page(10, 0, 10, 100), cursor, last=False)
    assert proof.value.stalled_pages == 1
    # without total: tolerated a few times, then an error
    guard = ProgressGuard(0)
    for offset in range(10, 10 * MAX_STALLED_PAGES, 10):
        guard.check(page(offset, 0, 10, None), cursor, last=False)
    with pytest.raises(PaginationStalledError) as info:
        guard.check(page(10 * MAX_STALLED_PAGES, 0, 10, None), cursor, last=False)
    assert info.value.stalled_pages == MAX_STALLED_PAGES
    guard.check(page(50, 0, 0, None), cursor, last=True)  # an empty last page is the end


def test_public_signatures_name_only_exported_types() -> None:
    """Every class in a public signature of ``client.sessions`` is importable from the package."""
    import voice_async
    from voice_async.resources.sessions import SessionsResource

    seen: set[type] = set()

    def classes(hint: Any) -> None:
        if isinstance(hint, type):
            seen.add(hint)
        for arg in typing.get_args(hint):
            classes(arg)

    exported = {n: getattr(voice_async, n) for n in voice_async.__all__}  # loads them all
    owners = (
        SessionsResource,  # the resource's methods, and the objects they hand back
        voice_async.EventStream,
        voice_async.SessionWatch,
        SessionIterator,
        SessionPageIterator,
    )
    for owner in owners:
        namespace = {**vars(sys.modules[owner.__module__]), **exported}
        for name, member in vars(owner).items():
            function = member.fget if isinstance(member, property) else member
            if callable(function) and not name.startswith("_"):
                for hint in typing.get_type_hints(function, namespace).values():
                    classes(hint)
    ours = {c for c in seen if c.__module__.startswith("voice_async")}
    assert {"SessionIterator", "Checkpoint", "SessionFilters", "EventStreamOptions"} <= {
        c.__name__ for c in ours
    }
    for cls in ours:
        assert getattr(voice_async, cls.__name__) is cls, cls
    for cls in (SessionIterator, SessionPageIterator, Checkpoint):
        assert getattr(voice_async, cls.__name__) is cls
