"""E1: the emulator at scale -- list pages, memory per placed call, the idempotency store.

    .venv/bin/python -m benchmarks.bench_emulator [--calls 100000] [--rounds 7]

The emulator is what users run their demos and test suites against, often for
a long time: it must stay fast and small however many calls were placed.  In
this process, two emulators side by side, both placing calls the way
make-call places them (an idempotency key, a live simulated call run to its
end): a **fresh** one that placed 300 (full pages of the same kind of rows)
and a **big** one that placed ``--calls``.

* A list page, ``limit=100`` at a random offset: ``GET /api/v1/voice-sessions``
  end to end over loopback (raw aiohttp, the emulator's aiohttp server in
  this same process), what a user's page costs; target <= 1.5x the fresh
  emulator's.  Then, informational, what the page costs the emulator's own
  store (no network), unfiltered and filtered by status: a few microseconds
  of a page, in which 100,000 rows that no longer fit the CPU's caches show.
  Interleaved rounds; the ratio is the big emulator's cost per page over the
  fresh one's (the median of per-round ratios).
* Memory per placed call: ``tracemalloc`` over 2,000 more placements on the
  big emulator (the sessions, their events, the idempotency entries).
  Target: <= 3 KB.
* The idempotency store after all placements: its size against its capacity
  (the documented retention: 24 h, at most 100,000 finished keys).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import aiohttp

from tests.emulator.emu_helpers import bytes_per_placed_call, place_calls
from voice_async.testing import Emulator
from voice_async.testing._filters import ListQuery, SessionFilter
from voice_async.testing._store import IDEMPOTENCY_CAPACITY

from ._common import Row, Sample, bound, cpu_us, interleave, median, paired, result, timed

CASE = "E1"
#: What the fresh emulator placed: enough for full pages of the same kind of rows.
FRESH_CALLS = 300
TARGET_PAGE = 1.5
TARGET_KB_PER_CALL = 3.0
PAGE = 100
COMPLETED = SessionFilter(status="completed")


def handler_pages(
    emu: Emulator, pages: int, flt: SessionFilter | None
) -> Callable[[], Awaitable[Sample]]:
    """``pages`` list pages straight from the emulator's store: (pages/s, CPU us per page)."""
    store = emu._state.sessions
    offsets = random.Random(1).choices(range(max(emu.total_sessions - PAGE, 1)), k=pages)

    async def work() -> int:
        for offset in offsets:
            store.page(ListQuery(limit=PAGE, offset=offset, filter=flt or SessionFilter()))
        return pages

    return lambda: timed(work)


def http_pages(
    http: aiohttp.ClientSession, emu: Emulator, pages: int
) -> Callable[[], Awaitable[Sample]]:
    """``pages`` unfiltered GETs over loopback, one at a time."""
    url = f"{emu.base_url}/api/v1/voice-sessions"
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    offsets = random.Random(2).choices(range(max(emu.total_sessions - PAGE, 1)), k=pages)

    async def work() -> int:
        for offset in offsets:
            params = {"limit": str(PAGE), "offset": str(offset)}
            async with http.get(url, params=params, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"emulator answered {resp.status}")
        return pages

    return lambda: timed(work)


async def run_async(calls: int, rounds: int, pages: int) -> list[Row]:
    async with Emulator() as fresh, Emulator() as big:
        await place_calls(fresh, FRESH_CALLS)
        started = time.perf_counter()
        await place_calls(big, calls)
        placing = time.perf_counter() - started
        print(f"  placed {calls:,} calls in {placing:.1f} s", flush=True)
        rows = []
        for label, flt in (("unfiltered", None), ("filtered by status", COMPLETED)):
            samples = await interleave(
                {"big": handler_pages(big, pages, flt), "fresh": handler_pages(fresh, pages, flt)},
                rounds,
            )
            rows.append(_page_row(f"list page {label}, emulator's own cost", samples, calls, None))
        async with aiohttp.ClientSession() as http:
            samples = await interleave(
                {
                    "big": http_pages(http, big, pages // 4),
                    "fresh": http_pages(http, fresh, pages // 4),
                },
                rounds,
            )
        rows.insert(
            0, _page_row("list page unfiltered, GET over loopback", samples, calls, TARGET_PAGE)
        )
        per_call = await bytes_per_placed_call(big, 2_000) / 1024
        memory = bound(
            CASE,
            "memory per placed call (tracemalloc over 2,000 more)",
            per_call,
            TARGET_KB_PER_CALL,
            " KB",
            note=f"after {calls:,} placed calls",
        )
        keys = bound(
            CASE,
            f"idempotency keys kept after {calls + 2_000:,} placed calls",
            len(big._state.idempotency),
            IDEMPOTENCY_CAPACITY,
            " keys",
            note="finished keys kept 24 h, the oldest forgotten first past the capacity",
        )
        rows += [memory, keys]
        return rows


def _page_row(
    metric: str, samples: dict[str, list[Sample]], calls: int, target: float | None
) -> Row:
    """Cost per page, big over fresh: the median of per-round ratios (lower is better)."""
    mid, low, high = paired(samples["fresh"], samples["big"])  # fresh rate / big rate
    big, fresh = cpu_us(samples["big"]), cpu_us(samples["fresh"])
    row = result(
        CASE,
        f"{metric}: {calls:,} placed calls vs fresh",
        sdk=big,
        baseline=fresh,
        baseline_name="fresh emulator",
        unit=" us/page",
        target=target,
        better="lower",
        ratio=mid,
        note=f"{len(samples['big'])} rounds; {median([s[0] for s in samples['big']]):,.0f} pages/s",
    )
    row["range"] = (low, high)
    row["cpu"] = (big, fresh)
    return row


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    if quick:
        return asyncio.run(run_async(calls=5_000, rounds=2, pages=200))
    return asyncio.run(run_async(calls=100_000, rounds=7, pages=2_000))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--pages", type=int, default=2_000)
    args = parser.parse_args(argv)
    from .run import print_table

    table = asyncio.run(run_async(args.calls, args.rounds, args.pages))
    print_table(table)
    return 0 if all(row["ok"] is not False for row in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
