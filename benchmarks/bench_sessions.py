"""P2: export every session -- ``client.sessions.iter`` vs raw aiohttp loops, lean server.

    .venv/bin/python -m benchmarks.bench_sessions [--sessions 20000] [--latency 0.02]
        [--page-size 100] [--rounds 3]

The lean server (``benchmarks._lean_server``, pinned to the last CPU) serves
``--sessions`` pre-encoded sessions, first after ``--latency`` seconds per
page, then with no latency.  Each variant runs in a fresh child process pinned
to the first CPU, so its peak RSS growth is its own: growth = ``VmHWM`` at the
end minus ``VmRSS`` just before the first request (the high-water mark is
reset there through ``/proc/self/clear_refs`` where Linux allows it).  The
consumer keeps nothing: it folds each id into an order-sensitive digest, which
must be the same for every variant (same sessions, same order).

Variants:

* ``naive``: ``limit/offset`` loop with raw aiohttp and ``json``;
* ``raw-c8``: raw aiohttp and ``json``, a sliding window of 8 requests
  consumed in order, no models and no checks: a careful hand-written export;
* ``iter-seq``: ``client.sessions.iter(limit=...)`` (sequential, prefetch);
* ``iter-c8``: ``client.sessions.iter(limit=..., concurrency=8)``.

Targets: at 20 ms/page ``iter-c8`` >= 7x naive and >= 0.95x raw-c8; at 0 ms/page
client CPU per session <= 1.5x raw-c8's; RSS growth <= 30 MB.  Ratios are the
median of per-round ratios (each round runs every variant back to back).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ._common import (
    API_KEY,
    LeanServer,
    Row,
    Sample,
    ServerProcess,
    bound,
    cpu_timer,
    cpu_us,
    median,
    pin_client,
    proc_status_kib,
    result,
    versus,
)

CASE = "P2"
VARIANTS = ("naive", "raw-c8", "iter-seq", "iter-c8")
SLOW_VARIANTS = VARIANTS
FAST_VARIANTS = ("raw-c8", "iter-c8")
LATENCY = 0.02
PAGE_SIZE = 100
TARGET_VS_NAIVE = 7.0
TARGET_VS_RAW = 0.95
TARGET_CPU = 1.5
TARGET_RSS_MB = 30.0
ROOT = Path(__file__).resolve().parents[1]


# -- one variant, in a child process ---------------------------------------------


class Sink:
    """What the export does with each session: digest the id, maybe write a line."""

    def __init__(self, write: bool) -> None:
        self.digest = hashlib.blake2b(digest_size=16)
        self.count = 0
        self.out = open(os.devnull, "w", encoding="utf-8") if write else None  # noqa: SIM115

    def take(self, session_id: str, record: Any) -> None:
        self.digest.update(session_id.encode())
        self.count += 1
        if self.out is not None:
            self.out.write(json.dumps(record, separators=(",", ":")) + "\n")


def _list_url(base_url: str) -> str:
    return f"{base_url}/api/v1/voice-sessions"


async def run_naive(base_url: str, page_size: int, sink: Sink) -> None:
    import aiohttp

    offset = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        while True:
            params = {"limit": str(page_size), "offset": str(offset)}
            async with http.get(_list_url(base_url), params=params) as resp:
                resp.raise_for_status()
                body = await resp.json()
            for item in body["data"]:
                sink.take(item["id"], item)
            offset += len(body["data"])
            if not body["has_more"]:
                return


async def run_raw_concurrent(base_url: str, page_size: int, concurrency: int, sink: Sink) -> None:
    """Total from the first page, then a sliding window of requests, in order."""
    import aiohttp

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_KEY}"}) as http:

        async def page(offset: int) -> Any:
            params = {"limit": str(page_size), "offset": str(offset)}
            async with http.get(_list_url(base_url), params=params) as resp:
                resp.raise_for_status()
                return await resp.json()

        first = await page(0)
        for item in first["data"]:
            sink.take(item["id"], item)
        offsets = iter(range(page_size, first["total"], page_size))
        window = [asyncio.ensure_future(page(o)) for o in itertools.islice(offsets, concurrency)]
        while window:
            body = await window.pop(0)
            for item in body["data"]:
                sink.take(item["id"], item)
            window.extend(asyncio.ensure_future(page(o)) for o in itertools.islice(offsets, 1))


async def run_iter(base_url: str, page_size: int, concurrency: int, sink: Sink) -> None:
    from voice_async import AsyncVoiceClient
    from voice_async._convert import unstructure

    write = sink.out is not None
    async with AsyncVoiceClient(api_key=API_KEY, base_url=base_url) as client:
        iterator = client.sessions.iter(limit=page_size, concurrency=concurrency)
        async with iterator:
            async for session in iterator:
                sink.take(session.id, unstructure(session) if write else None)


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def child(variant: str, base_url: str, page_size: int, write: bool) -> dict[str, Any]:
    """Run one variant in this (fresh) process; the measurement as a dict."""
    import aiohttp  # noqa: F401  -- imports count before the baseline, for all variants

    # ``import voice_async`` alone loads nothing (lazy, PEP 562): import what
    # run_iter runs, or ~200 ms of imports would be charged to the export
    # (~10 us per session at 20,000 sessions).
    for module in ("voice_async._client", "voice_async._convert", "voice_async._pagination"):
        importlib.import_module(module)

    pin_client()
    sink = Sink(write)
    if variant == "naive":
        work = run_naive(base_url, page_size, sink)
    elif variant == "raw-c8":
        work = run_raw_concurrent(base_url, page_size, 8, sink)
    else:
        work = run_iter(base_url, page_size, 8 if variant == "iter-c8" else 1, sink)
    reset = _reset_peak_rss()
    baseline = proc_status_kib("VmRSS")
    with cpu_timer() as elapsed:
        asyncio.run(work)
    seconds, cpu = elapsed()
    return {
        "variant": variant,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "count": sink.count,
        "digest": sink.digest.hexdigest(),
        "rss_growth_mb": (proc_status_kib("VmHWM") - baseline) / 1024,
        "peak_reset": reset,
    }


# -- the driver --------------------------------------------------------------------


def run_variant(variant: str, base_url: str, page_size: int, write: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_sessions", "--child", variant]
    cmd += ["--base-url", base_url, "--page-size", str(page_size)]
    cmd += ["--write"] if write else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    measured: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return measured


Runs = dict[str, list[dict[str, Any]]]


def measure(
    server: ServerProcess,
    variants: tuple[str, ...],
    sessions: int,
    page_size: int,
    rounds: int,
    write: bool = False,
) -> Runs:
    """Every variant once per round, back to back, the order alternating between rounds."""
    runs: Runs = {v: [] for v in variants}
    for round_ in range(rounds):
        for variant in variants if round_ % 2 == 0 else tuple(reversed(variants)):
            measured = run_variant(variant, server.base_url, page_size, write)
            runs[variant].append(measured)
            print(
                f"  round {round_ + 1} {variant:<9} {measured['seconds']:7.2f}s  "
                f"client CPU {measured['cpu_seconds'] / sessions * 1e6:.1f} us/session  "
                f"rss +{measured['rss_growth_mb']:.1f} MB  count={measured['count']}",
                flush=True,
            )
    return runs


def samples(runs: Runs, sessions: int) -> dict[str, list[Sample]]:
    """Each run as a :data:`Sample`: (sessions/s, client CPU us per session)."""
    return {
        v: [(sessions / r["seconds"], r["cpu_seconds"] / sessions * 1e6) for r in rs]
        for v, rs in runs.items()
    }


def exact(runs: Runs, sessions: int) -> bool:
    """Every variant yielded the same sessions in the same order, in every round."""
    every = [r for rs in runs.values() for r in rs]
    return {r["count"] for r in every} == {sessions} and len({r["digest"] for r in every}) == 1


def rows(slow: Runs, fast: Runs, sessions: int, latency: float) -> list[Row]:
    at = f"{latency * 1000:g} ms/page"
    same = "same sessions+order" if exact(slow, sessions) and exact(fast, sessions) else "DISAGREE"
    by_rate = samples(slow, sessions)
    c8_naive = versus(
        CASE,
        f"export, iter c=8 vs naive, {at}",
        by_rate,
        "iter-c8",
        "naive",
        unit="/s",
        target=TARGET_VS_NAIVE,
        note=f"{sessions:,} sessions; {same}",
    )
    c8_raw = versus(
        CASE,
        f"export, iter c=8 vs raw 8 in flight, {at}",
        by_rate,
        "iter-c8",
        "raw-c8",
        unit="/s",
        target=TARGET_VS_RAW,
    )
    seq = versus(
        CASE,
        f"export, iter sequential vs naive, {at}",
        by_rate,
        "iter-seq",
        "naive",
        unit="/s",
        note="informational",
    )
    by_cpu = samples(fast, sessions)
    mine, theirs = cpu_us(by_cpu["iter-c8"]), cpu_us(by_cpu["raw-c8"])
    cpu = result(
        CASE,
        "export, client CPU per session, iter c=8 vs raw c=8, 0 ms/page",
        sdk=mine,
        baseline=theirs,
        baseline_name="raw-c8",
        unit="us",
        better="lower",
        target=TARGET_CPU,
        note=f"rate {median([s[0] for s in by_cpu['iter-c8']]):,.0f}/s",
    )
    rss = max(r["rss_growth_mb"] for rs in (*slow.values(), *fast.values()) for r in rs)
    rss_row = bound(CASE, "export, peak RSS growth (any variant)", rss, TARGET_RSS_MB, " MB")
    if same == "DISAGREE":
        c8_naive["ok"] = False
    return [c8_naive, c8_raw, seq, cpu, rss_row]


def measure_all(sessions: int, rounds: int, latency: float = LATENCY) -> tuple[Runs, Runs]:
    """(runs at ``latency`` per page, runs at 0 ms per page) against the lean server."""
    with LeanServer(sessions=sessions, latency=latency) as server:
        print(f"  {latency * 1000:g} ms/page:")
        slow = measure(server, SLOW_VARIANTS, sessions, PAGE_SIZE, rounds)
    with LeanServer(sessions=sessions) as server:
        print("  0 ms/page:")
        fast = measure(server, FAST_VARIANTS, sessions, PAGE_SIZE, rounds)
    return slow, fast


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    sessions, rounds = (2_000, 1) if quick else (20_000, 3)
    return rows(*measure_all(sessions, rounds), sessions, LATENCY)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=LATENCY, help="seconds per list page")
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="child: also write JSONL")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.base_url, args.page_size, args.write)))
        return 0
    table = rows(
        *measure_all(args.sessions, args.rounds, args.latency), args.sessions, args.latency
    )
    from .run import print_table

    print_table(table)
    return 0 if all(row["ok"] is not False for row in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
