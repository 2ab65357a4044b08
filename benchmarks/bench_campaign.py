"""C1: campaigns -- pace against a tenant limit, speed without one, memory for 1M rows.

    .venv/bin/python -m benchmarks.bench_campaign [--rows 10000] [--rounds 9] [--quick]

The emulator runs in a child process pinned to its own CPU (see ``_common``).

* **Limited.** ``--rate-limit 500`` on the emulator (a fixed one-second
  window, 429 + ``Retry-After``); ``client.campaigns.run(rate=500)`` dials
  ``--rows`` rows.  Reported: the achieved rate vs the limit (target >= 0.9),
  duplicates (placed sessions on the server minus rows: must be 0), 429s
  absorbed, client CPU per row.  Also informational: ``rate=None`` (the
  campaign learns the limit from the 429s alone).
* **Unlimited.** No limit; 5,000 rows per variant per round, a fresh
  emulator per round; the campaign (``rate=None``, 32 in flight) vs the
  loop everyone writes by hand -- ``asyncio.gather`` over rows with an
  ``asyncio.Semaphore(32)`` around ``client.make_call(idempotency_key=...)``.
  Rounds alternate the order; the ratio is the median of per-round ratios
  (target >= 0.9x).  The campaign does more per row (row key, derived key,
  limiter, result objects, summary) and streams its input, where ``gather``
  holds every row's task at once.
* **Memory.** 1,000,000 generator rows through a campaign (invalid numbers,
  so no request is made: the pipeline alone); peak RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator

from voice_async import AsyncVoiceClient, CallRow, campaign_idempotency_key, row_key

from ._common import (
    EmulatorProcess,
    Row,
    cpu_timer,
    median,
    pin_client,
    proc_status_kib,
    result,
)

CASE = "C1"
FROM, AGENT = "+15555551234", "support_primary"
LIMIT = 500
CONCURRENCY = 32
#: Rows per variant per round without a limit: shorter rounds, more of them,
#: so the two variants of a round meet the same machine load.
UNLIMITED_ROWS = 5_000


def _rows(n: int, tag: str) -> Iterator[CallRow]:
    for i in range(n):
        yield CallRow(f"+1555{i:07d}", FROM, AGENT, {"batch": tag}, key=f"{tag}-{i}")


def _client(emu: EmulatorProcess) -> AsyncVoiceClient:
    return AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url)


async def _campaign(
    client: AsyncVoiceClient, n: int, tag: str, rate: float | None, stats: dict[str, float]
) -> set[str]:
    sessions: set[str] = set()
    run = client.campaigns.run(_rows(n, tag), campaign_id=tag, rate=rate, concurrency=CONCURRENCY)
    async with run:
        async for r in run:
            if r.session_id is None:
                raise RuntimeError(f"row {r.key} failed: {r.error!r}")
            sessions.add(r.session_id)
    stats["extra_attempts"] = run.summary.attempts - n  # 429s and transient retries
    stats["final_rate"] = getattr(run.limiter, "rate", None) or 0.0
    return sessions


async def _hand_written(client: AsyncVoiceClient, n: int, tag: str) -> set[str]:
    """The baseline: gather + semaphore, same keys, same calls."""
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(row: CallRow) -> str:
        async with semaphore:
            call = await client.make_call(
                to=row.to,
                from_=row.from_,
                agent_key=row.agent_key,
                metadata=row.metadata,
                idempotency_key=campaign_idempotency_key(tag, row_key(row)),
            )
            return call.session_id

    return set(await asyncio.gather(*(one(row) for row in _rows(n, tag))))


async def _server_total(client: AsyncVoiceClient) -> int:
    page = await client.sessions.list(limit=1)
    return page.total or 0


async def limited(rows: int) -> list[Row]:
    out: list[Row] = []
    for rate, label in ((float(LIMIT), "rate=500"), (None, "rate=None (learns from 429s)")):
        with EmulatorProcess("--rate-limit", str(LIMIT)) as emu:
            async with _client(emu) as client:
                stats: dict[str, float] = {}
                with cpu_timer() as elapsed:
                    sessions = await _campaign(client, rows, "limited", rate, stats)
                    wall, cpu = elapsed()
                duplicates = await _server_total(client) - rows
        achieved = rows / wall
        print(
            f"limited {label}: {achieved:,.0f} calls/s over {wall:.1f}s, "
            f"{len(sessions)} sessions, duplicates {duplicates}, "
            f"CPU/row {cpu / rows * 1e6:.0f} us, {stats['extra_attempts']:.0f} extra attempts "
            f"(429s), limiter ends at {stats['final_rate']:.0f}/s"
        )
        out.append(
            result(
                CASE,
                f"{rows:,} rows vs a {LIMIT}/s tenant limit, {label}",
                sdk=achieved,
                baseline=LIMIT,
                baseline_name="the tenant limit",
                unit="calls/s",
                target=0.9 if rate is not None else None,
                note=f"{duplicates} duplicates; {stats['extra_attempts']:.0f} 429s absorbed; "
                f"client CPU {cpu / rows * 1e6:.0f} us/row",
            )
        )
        if duplicates or len(sessions) != rows:
            raise RuntimeError(f"exactly-once violated: {duplicates} duplicates")
    return out


async def unlimited(rows: int, rounds: int) -> list[Row]:
    rates: dict[str, list[float]] = {"campaign": [], "gather": []}
    cpus: dict[str, list[float]] = {"campaign": [], "gather": []}
    ratios = []
    for index in range(rounds):
        # A fresh emulator per round: both variants of a round meet the same
        # server state (an emulator holding 100,000s of calls slows down).
        with EmulatorProcess() as emu:
            async with _client(emu) as client:
                await _hand_written(client, 200, "warmup")
                order = ("campaign", "gather") if index % 2 == 0 else ("gather", "campaign")
                for name in order:
                    tag = f"{name}-{index}"
                    with cpu_timer() as elapsed:
                        if name == "campaign":
                            placed = await _campaign(client, rows, tag, None, {})
                        else:
                            placed = await _hand_written(client, rows, tag)
                        wall, cpu = elapsed()
                    assert len(placed) == rows
                    rates[name].append(rows / wall)
                    cpus[name].append(cpu / rows * 1e6)
        ratios.append(rates["campaign"][-1] / rates["gather"][-1])
        print(
            f"round {index}: campaign {rates['campaign'][-1]:,.0f}/s, "
            f"gather {rates['gather'][-1]:,.0f}/s, ratio {ratios[-1]:.3f}"
        )
    return [
        result(
            CASE,
            f"{rows:,} rows, no limit, {CONCURRENCY} in flight",
            sdk=median(rates["campaign"]),
            baseline=median(rates["gather"]),
            baseline_name="asyncio.gather + Semaphore loop",
            unit="calls/s",
            target=0.9,
            ratio=median(ratios),
            note=f"{rounds} rounds",
        ),
        result(
            CASE,
            "client CPU per row, no limit",
            sdk=median(cpus["campaign"]),
            baseline=median(cpus["gather"]),
            baseline_name="gather loop",
            unit="us",
            better="lower",
        ),
    ]


async def memory(rows: int) -> list[Row]:
    def bad_rows() -> Iterator[CallRow]:
        for i in range(rows):
            yield CallRow("not-a-number", FROM, AGENT, {"i": i}, key=f"m-{i}")

    async with AsyncVoiceClient(api_key="sk_bench_unused", base_url="http://127.0.0.1:9") as c:
        before = proc_status_kib("VmRSS")
        started = time.perf_counter()
        run = c.campaigns.run(bad_rows(), campaign_id="memory", concurrency=CONCURRENCY)
        peak = before
        seen = 0
        async with run:
            async for _ in run:
                seen += 1
                if seen % 50_000 == 0:
                    peak = max(peak, proc_status_kib("VmRSS"))
        wall = time.perf_counter() - started
    growth_mb = (max(peak, proc_status_kib("VmRSS")) - before) / 1024
    print(f"memory: {rows:,} rows in {wall:.1f}s, RSS growth {growth_mb:.1f} MB")
    return [
        result(
            CASE,
            f"{rows:,} generator rows: RSS growth",
            sdk=growth_mb,
            baseline=1.0,
            baseline_name="1 MB",
            unit="MB",
            note=f"{rows / wall:,.0f} rows/s, no HTTP",
        )
    ]


async def main(rows: int, rounds: int, memory_rows: int) -> list[Row]:
    pin_client()
    out = await limited(rows)
    out += await unlimited(min(rows, UNLIMITED_ROWS), rounds)
    out += await memory(memory_rows)
    return out


def run(quick: bool = False) -> list[Row]:
    if quick:
        return asyncio.run(main(2_000, 2, 100_000))
    return asyncio.run(main(10_000, 9, 1_000_000))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows_out = (
        run(quick=True)
        if args.quick
        else asyncio.run(main(args.rows, args.rounds, args.memory_rows))
    )
    for row in rows_out:
        print(row)
