"""P2: export every session -- ``client.sessions.iter`` vs a naive raw aiohttp loop.

    .venv/bin/python -m benchmarks.bench_sessions [--sessions 100000] [--latency 0.02]
        [--page-size 100] [--rounds 1] [--write]

The emulator runs in its own process (``benchmarks._common.EmulatorProcess``,
pinned to the last CPU) with ``--latency`` seconds injected into every list
request.  Each variant runs in a fresh child process pinned to the first CPU,
so its peak RSS growth is its own: growth = ``VmHWM`` at the end minus
``VmRSS`` just before the first request (the high-water mark is reset there
through ``/proc/self/clear_refs`` where Linux allows it).  The consumer keeps
nothing: it folds each id into an order-sensitive digest, which must be the
same for every variant (same sessions, same order), and counts them.
``--write`` also writes each session as a JSON line to ``/dev/null``.

Variants:

* ``naive``: ``limit/offset`` loop with raw aiohttp and ``json`` (the baseline);
* ``raw-c8``: raw aiohttp and ``json``, a sliding window of 8 requests
  consumed in order, no models and no checks -- what a careful hand-written
  concurrent export gets from this setup (emulator CPU + HTTP), which tells
  the SDK's own cost from the server's;
* ``iter-seq``: ``client.sessions.iter(limit=...)`` -- sequential, prefetch;
* ``iter-c8``: ``client.sessions.iter(limit=..., concurrency=8)``.

Targets: ``iter-c8`` >= 6x the naive loop's throughput, RSS growth <= 30 MB.
Ratios against the naive loop are the median of per-round ratios (each round
runs every variant back to back), which a VM getting busier or quieter
between rounds does not bias.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ._common import (
    API_KEY,
    EmulatorProcess,
    Row,
    cpu_timer,
    median,
    pin_client,
    proc_status_kib,
    result,
)

CASE = "P2"
VARIANTS = ("naive", "raw-c8", "iter-seq", "iter-c8")
TARGET_RATIO = 6.0
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

    import voice_async  # noqa: F401

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


def run_variant(variant: str, emu: EmulatorProcess, page_size: int, write: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_sessions", "--child", variant]
    cmd += ["--base-url", emu.base_url, "--page-size", str(page_size)]
    cmd += ["--write"] if write else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    measured: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return measured


def measure(
    sessions: int, latency: float, page_size: int, rounds: int, write: bool
) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with EmulatorProcess("--sessions", str(sessions), "--latency", str(latency)) as emu:
        for round_ in range(rounds):
            order = VARIANTS if round_ % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                measured = run_variant(variant, emu, page_size, write)
                runs[variant].append(measured)
                pages = -(-sessions // page_size)
                print(
                    f"round {round_ + 1} {variant:<9} {measured['seconds']:7.2f}s "
                    f"client CPU {measured['cpu_seconds'] / pages * 1000:.2f} ms/page  "
                    f"rss +{measured['rss_growth_mb']:.1f} MB  count={measured['count']}",
                    flush=True,
                )
    return runs


def paired_ratio(runs: dict[str, list[dict[str, Any]]], variant: str, baseline: str) -> float:
    """Median over rounds of ``variant``'s speed relative to ``baseline`` in that round."""
    pairs = zip(runs[baseline], runs[variant], strict=True)
    return median([base["seconds"] / run["seconds"] for base, run in pairs])


def rows(runs: dict[str, list[dict[str, Any]]], sessions: int, latency: float) -> list[Row]:
    rate = {v: sessions / median([r["seconds"] for r in rs]) for v, rs in runs.items()}
    exact = {r["count"] for rs in runs.values() for r in rs} == {sessions} and (
        len({r["digest"] for rs in runs.values() for r in rs}) == 1
    )
    setup = f"{sessions} sessions, {latency * 1000:g} ms/page"
    same = "same sessions+order in every variant" if exact else "VARIANTS DISAGREE"
    rss = max(r["rss_growth_mb"] for rs in runs.values() for r in rs)
    rss_row = result(
        CASE,
        "export peak RSS growth (iter-c8)",
        sdk=max(r["rss_growth_mb"] for r in runs["iter-c8"]),
        baseline=max(r["rss_growth_mb"] for r in runs["naive"]),
        baseline_name="naive",
        unit="MB",
        better="lower",
        note=f"max over all variants {rss:.1f} MB",
    )
    rss_row.update(target=f"<= {TARGET_RSS_MB:g} MB", ok=rss <= TARGET_RSS_MB)
    c8 = result(
        CASE,
        "export sessions/s, iter concurrency=8",
        sdk=rate["iter-c8"],
        baseline=rate["naive"],
        baseline_name="naive aiohttp loop",
        unit="/s",
        target=TARGET_RATIO,
        note=f"{setup}; {same}",
        ratio=paired_ratio(runs, "iter-c8", "naive"),
    )
    if not exact:
        c8["ok"] = False
    return [
        c8,
        result(
            CASE,
            "export sessions/s, iter sequential+prefetch",
            sdk=rate["iter-seq"],
            baseline=rate["naive"],
            baseline_name="naive aiohttp loop",
            unit="/s",
            note=setup,
            ratio=paired_ratio(runs, "iter-seq", "naive"),
        ),
        result(
            CASE,
            "export sessions/s, iter c8 vs raw c8",
            sdk=rate["iter-c8"],
            baseline=rate["raw-c8"],
            baseline_name="raw aiohttp, 8 in flight",
            unit="/s",
            note=f"raw-c8 (sliding window of 8) is {paired_ratio(runs, 'raw-c8', 'naive'):.2f}x "
            "naive",
            ratio=paired_ratio(runs, "iter-c8", "raw-c8"),
        ),
        rss_row,
    ]


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    # Three rounds in a full run: one round on a 2-CPU VM swings 3.5x..7x.
    sessions, rounds = (40_000, 1) if quick else (100_000, 3)
    return rows(measure(sessions, 0.02, 100, rounds, write=False), sessions, 0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per list request")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="also write JSONL to /dev/null")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.base_url, args.page_size, args.write)))
        return 0
    runs = measure(args.sessions, args.latency, args.page_size, args.rounds, args.write)
    table = rows(runs, args.sessions, args.latency)
    from .run import print_table

    print_table(table)
    return 0 if all(row["ok"] is not False for row in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
