"""S1/S2: scale-out on arq workers -- windowed export and sharded campaign.

    .venv/bin/python -m benchmarks.bench_scaleout [--quick] [--workers 1,2,4]

Real components: a ``redis-server`` subprocess, ``python -m arq`` worker
subprocesses (``voice_async.contrib.arq.WorkerSettings``), the emulator in its
own process (``benchmarks._common.EmulatorProcess``, pinned to the last CPU).

S1 export: ``--sessions`` (1,000,000) seeded sessions, ``--latency`` (20 ms)
on every page; ``enqueue_export`` with two windows per worker, each window
job at ``concurrency=8`` pages in flight, one job at a time per worker
(``VOICE_ASYNC_MAX_JOBS=1``, so arq spreads the windows), then
``merge_parts``.  Wall time from enqueue to merged file; speed-up vs 1 worker.

S2 campaign: ``--rows`` (20,000) rows against an emulator limiting make-call
to ``--limit`` (1,000) calls/s; ``enqueue_campaign(shards=4, rate=limit)``
(burst a tenth of the rate), each shard at ``concurrency=8``; 4 shard jobs
spread over the workers.  Achieved rate = rows / wall time (enqueue to last
shard done), and the 429s the emulator still had to send.  Duplicates:
the emulator's session count must equal the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool

from voice_async import AsyncVoiceClient, CallRow
from voice_async.contrib import merge_parts
from voice_async.contrib.arq import campaign_status, enqueue_campaign, enqueue_export

from ._common import EmulatorProcess, Row, result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.scaleout._procs import RedisServer, Workers, worker_env

CASE = "S1"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the workers and by the emulator since construction."""

    def __init__(self, emu: EmulatorProcess, pool: Workers) -> None:
        proc = emu._proc  # the emulator's child process (benchmarks._common)
        self.emulator_pid = proc.pid if proc is not None else -1
        self.worker_pids = [p.pid for p in pool.procs]
        self.start = self._now()

    def _now(self) -> tuple[float, float]:
        workers = sum(cpu_seconds(pid) for pid in self.worker_pids)
        return workers, cpu_seconds(self.emulator_pid)

    def stop(self) -> dict[str, float]:
        workers, emulator = self._now()
        return {"worker_cpu": workers - self.start[0], "emulator_cpu": emulator - self.start[1]}


def rows(n: int) -> Iterator[CallRow]:
    for i in range(n):
        yield CallRow(
            to=f"+1555{i:07d}", from_="+15555550100", agent_key="appointments", key=f"bench-{i}"
        )


async def _with_workers(
    emu: EmulatorProcess, redis: RedisServer, n: int, log_dir: Path, **env: str
) -> Workers:
    pool = Workers(
        worker_env(redis.url, emu.base_url, emu.api_key, VOICE_ASYNC_JOB_TIMEOUT="3600", **env),
        log_dir,
    )
    pool.start(n)
    return pool


async def export_once(
    emu: EmulatorProcess, redis: RedisServer, arq: ArqRedis, n: int, tmp: Path
) -> dict[str, Any]:
    pool = await _with_workers(emu, redis, n, tmp / f"logs-export-{n}", VOICE_ASYNC_MAX_JOBS="1")
    try:
        await asyncio.sleep(2.0)  # let the workers import and connect before the clock starts
        meter = CpuMeter(emu, pool)
        async with AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            started = time.perf_counter()
            jobs = await enqueue_export(
                arq, tmp / f"parts-{n}", windows=2 * n, client=client, concurrency=8
            )
            counts = await jobs.wait(poll_delay=0.1)
            total = await asyncio.to_thread(
                merge_parts, tmp / f"parts-{n}", tmp / f"merged-{n}.jsonl"
            )
            wall = time.perf_counter() - started
        cpu = meter.stop()
    finally:
        await pool.stop_all()
    assert sum(counts) == total
    return {
        "workers": n,
        "sessions": total,
        "wall": wall,
        "rate": total / wall,
        "worker_us": 1e6 * cpu["worker_cpu"] / total,
        "emulator_us": 1e6 * cpu["emulator_cpu"] / total,
    }


async def campaign_once(
    emu: EmulatorProcess,
    redis: RedisServer,
    arq: ArqRedis,
    n: int,
    n_rows: int,
    rate: float,
    tmp: Path,
    concurrency: int = 8,
) -> dict[str, Any]:
    pool = await _with_workers(
        emu, redis, n, tmp / f"logs-campaign-{n}", VOICE_ASYNC_MAX_JOBS=str(max(1, 4 // n))
    )
    campaign_id = f"bench-{n}"
    try:
        await asyncio.sleep(2.0)
        meter = CpuMeter(emu, pool)
        started = time.perf_counter()
        jobs = await enqueue_campaign(
            arq, rows(n_rows), campaign_id=campaign_id, shards=4, rate=rate, concurrency=concurrency
        )
        await jobs.wait(poll_delay=0.1)
        wall = time.perf_counter() - started
        cpu = meter.stop()
    finally:
        await pool.stop_all()
    status = await campaign_status(arq, campaign_id)
    attempts = 0
    for shard in range(4):
        results = await arq.hvals(f"voice_async:campaign:{campaign_id}:results:{shard}")
        attempts += sum(json.loads(v)["attempts"] for v in results)
    return {
        "workers": n,
        "rows": n_rows,
        "rate_asked": rate,
        "concurrency": concurrency,
        "placed": status.placed,
        "failed": status.failed,
        "429s": attempts - status.placed - status.failed,
        "wall": wall,
        "rate": status.placed / wall,
        "worker_us": 1e6 * cpu["worker_cpu"] / n_rows,
        "emulator_us": 1e6 * cpu["emulator_cpu"] / n_rows,
    }


async def run_async(
    quick: bool,
    workers: list[int],
    sessions: int,
    latency: float,
    n_rows: int,
    limit: float,
    only: str | None = None,
    rate: float | None = None,
    concurrency: int = 8,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    exports, campaigns = [], []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        redis = RedisServer(tmp / "redis")
        redis.start()
        arq = await create_pool(RedisSettings.from_dsn(redis.url))
        try:
            with EmulatorProcess("--sessions", str(sessions), "--latency", str(latency)) as emu:
                for n in workers if only != "campaign" else []:
                    exports.append(await export_once(emu, redis, arq, n, tmp))
                    print("export", exports[-1], flush=True)
            for n in sorted({min(workers), max(workers)}) if only != "export" else ():
                with EmulatorProcess("--rate-limit", str(limit)) as emu:
                    campaigns.append(
                        await campaign_once(
                            emu, redis, arq, n, n_rows, rate or limit, tmp, concurrency
                        )
                    )
                    async with AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url) as c:
                        campaigns[-1]["sessions_created"] = (await c.sessions.list(limit=1)).total
                print("campaign", campaigns[-1], flush=True)
        finally:
            await arq.aclose()
            redis.stop()
    return exports, campaigns


def table(exports: list[dict[str, Any]], campaigns: list[dict[str, Any]], limit: float) -> str:
    base = exports[0]["wall"] if exports else 1.0
    lines = [
        "| export, workers | sessions | wall s | sessions/s | speed-up | "
        "worker CPU/session | emulator CPU/session |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    lines += [
        f"| {e['workers']} | {e['sessions']:,} | {e['wall']:.1f} | {e['rate']:,.0f} | "
        f"{base / e['wall']:.2f}x | {e['worker_us']:.0f} us | {e['emulator_us']:.0f} us |"
        for e in exports
    ]
    lines += [
        "",
        "| campaign, workers | rows | placed | failed | sessions created | 429s | "
        "wall s | calls/s | of the limit | worker CPU/call | emulator CPU/call |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    lines += [
        f"| {c['workers']} | {c['rows']:,} | {c['placed']:,} | {c['failed']} | "
        f"{c['sessions_created']:,} | {c['429s']} | {c['wall']:.1f} | {c['rate']:,.0f} | "
        f"{c['rate'] / limit:.0%} | {c['worker_us']:.0f} us | {c['emulator_us']:.0f} us |"
        for c in campaigns
    ]
    return "\n".join(lines)


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point: S1 speed-up of the most workers vs one, S2 rate vs limit."""
    # quick: a smoke run of the whole path (the runner's contract: seconds, not minutes).
    sessions, n_rows, workers = (20_000, 400, [1, 2]) if quick else (1_000_000, 20_000, [1, 2, 4])
    exports, campaigns = asyncio.run(run_async(quick, workers, sessions, 0.02, n_rows, 1000.0))
    print(table(exports, campaigns, 1000.0))
    one, most = exports[0], exports[-1]
    best = max(campaigns, key=lambda c: c["rate"])
    return [
        result(
            "S1",
            f"export {one['sessions']:,} sessions, {most['workers']} workers vs 1",
            sdk=most["rate"],
            baseline=one["rate"],
            baseline_name="1 worker",
            unit="sessions/s",
            note="2 CPUs: see docs/scale-out.md",
        ),
        result(
            "S2",
            f"campaign {n_rows:,} rows vs 1,000/s limit ({best['workers']} workers)",
            sdk=best["rate"],
            baseline=1000.0,
            baseline_name="tenant limit",
            unit="calls/s",
            note=f"{best['failed']} failed, {best['429s']} 429s",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=1000.0)
    parser.add_argument("--only", choices=("export", "campaign"), default=None)
    parser.add_argument(
        "--rate", type=float, default=None, help="the campaign's rate (default: the limit)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="per shard job")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    sessions = min(args.sessions, 200_000) if args.quick else args.sessions
    exports, campaigns = asyncio.run(
        run_async(
            args.quick,
            workers,
            sessions,
            args.latency,
            args.rows,
            args.limit,
            args.only,
            args.rate,
            args.concurrency,
        )
    )
    print(table(exports, campaigns, args.limit))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
