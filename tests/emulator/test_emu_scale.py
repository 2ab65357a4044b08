"""The emulator at scale: pages touch only the rows they return, placed calls
are small in memory, and the idempotency store is bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from voice_async.testing import Emulator
from voice_async.testing._filters import ListQuery, SessionFilter
from voice_async.testing._store import IdempotencyStore

from .emu_helpers import bytes_per_placed_call, place_calls


class _Counted:
    """Counts SessionFilter.matches calls: the rows a page had to look at."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = SessionFilter.matches

        def matches(flt: SessionFilter, session: dict[str, Any], created_ts: float) -> bool:
            self.calls += 1
            return original(flt, session, created_ts)

        monkeypatch.setattr(SessionFilter, "matches", matches)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counted]:
    yield _Counted(monkeypatch)


async def test_an_unfiltered_page_looks_at_no_other_row(counted: _Counted) -> None:
    async with Emulator(sessions=50) as emu:
        ids = emu.insert_sessions(20_000)
        page = emu._state.sessions.page(ListQuery(limit=25, offset=100))
        assert counted.calls == 0
        assert [s["id"] for s in page.data] == ids[::-1][100:125]
        assert page.total == 20_050
        # Across the boundary the seeded tier continues the same order.
        mixed = emu._state.sessions.page(ListQuery(limit=20, offset=19_990))
        assert [s["id"] for s in mixed.data[:10]] == ids[::-1][19_990:]
        seeded = emu._state.sessions.seeded
        assert [s["id"] for s in mixed.data[10:]] == [seeded.session_id(i) for i in range(10)]
        tail = emu._state.sessions.page(ListQuery(limit=25, offset=20_040))
        assert [s["id"] for s in tail.data] == [seeded.session_id(i) for i in range(40, 50)]
        assert counted.calls == 0


async def test_a_filtered_page_scans_only_new_or_changed_rows(counted: _Counted) -> None:
    async with Emulator() as emu:
        emu.insert_sessions(5_000)
        completed = ListQuery(limit=10, filter=SessionFilter(status="completed"))
        first = emu._state.sessions.page(completed)
        assert counted.calls == 5_000
        again = emu._state.sessions.page(
            ListQuery(limit=10, offset=10, filter=SessionFilter(status="completed"))
        )
        assert counted.calls == 5_000  # cached: no rescan
        assert again.total == first.total
        emu.insert_sessions(7)
        emu._state.sessions.page(completed)
        assert counted.calls == 5_007  # only the new rows
        emu._state.sessions.status_changed()
        emu._state.sessions.page(completed)
        assert counted.calls == 10_014  # a status moved: one full rescan


async def test_filtered_pages_follow_live_status_changes() -> None:
    async with Emulator() as emu:
        await place_calls(emu, 3)
        done = emu._state.sessions.page(ListQuery(filter=SessionFilter(status="completed")))
        queued = emu._state.sessions.page(ListQuery(filter=SessionFilter(status="queued")))
        assert (done.total, queued.total) == (3, 0)


async def test_memory_per_placed_call_is_under_3_kb() -> None:
    async with Emulator() as emu:
        await place_calls(emu, 100)  # warm up caches and interned strings
        per_call = await bytes_per_placed_call(emu, 1000)
        assert emu.total_sessions == 1100
        # The finished calls' events are still all there.
        record = emu._state.sessions.record(emu._state.sessions.page(ListQuery()).data[0]["id"])
        assert record is not None and record.events().ended
        assert per_call <= 3 * 1024, per_call


def test_idempotency_store_is_bounded_by_count() -> None:
    store = IdempotencyStore(capacity=3)
    for i in range(10):
        assert store.begin(f"k{i}", {"n": i}) is None
        store.complete(f"k{i}", 201, b"{}")
    assert len(store) == 3
    assert store.begin("k9", {"n": 9}) is not None  # newest kept: a replay
    assert store.begin("k0", {"n": 0}) is None  # oldest forgotten: a new call


def test_idempotency_store_forgets_after_retention() -> None:
    now = [0.0]
    store = IdempotencyStore(retention=60, clock=lambda: now[0])
    store.begin("old", {"a": 1})
    store.complete("old", 201, b"{}")
    now[0] = 59
    assert store.begin("old", {"a": 1}) is not None
    now[0] = 61
    assert store.begin("old", {"a": 1}) is None


def test_in_progress_keys_are_never_evicted() -> None:
    store = IdempotencyStore(capacity=1)
    store.begin("running", {"a": 1})
    for i in range(5):
        store.begin(f"k{i}", {"n": i})
        store.complete(f"k{i}", 201, b"{}")
    with pytest.raises(Exception, match="still being processed"):
        store.begin("running", {"a": 1})
