"""P2: export every session -- naive raw aiohttp loop vs ``client.sessions.iter``.

    .venv/bin/python benchmarks/bench_sessions.py [--sessions 100000] [--latency 0.02]
        [--page-size 100] [--rounds 1] [--write]

The emulator runs in its own process (``python -m voice_async.testing``) with
``--latency`` seconds injected into every list request.  Each variant runs in
a fresh child process, so its peak RSS growth is its own: growth = ``VmHWM``
at the end minus ``VmRSS`` just before the first request (the high-water
mark is reset there through ``/proc/self/clear_refs`` when Linux allows it).
The consumer keeps nothing: it folds each id into an order-sensitive digest,
which must be identical across variants (same sessions, same order) and the
count must equal ``--sessions``.  ``--write`` also writes each session as a
JSON line to ``/dev/null`` (the CPU cost of a real export).

Variants:

* ``naive``: ``limit/offset`` loop with raw aiohttp and ``json`` (the baseline);
* ``raw-c8``: raw aiohttp and ``json``, 8 pages in flight, consumed in order,
  no models and no checks -- the ceiling of this setup (emulator CPU + HTTP),
  to tell the SDK's own cost from the server's;
* ``iter-seq``: ``client.sessions.iter(page_size=...)`` -- sequential, prefetch;
* ``iter-c8``: ``client.sessions.iter(page_size=..., concurrency=8)``.

Reported: wall time per variant (median of ``--rounds``), speed-up vs naive,
peak RSS growth.  Targets: ``iter-c8`` >= 6x naive, RSS growth <= 30 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from typing import Any

VARIANTS = ("naive", "raw-c8", "iter-seq", "iter-c8")
TARGET_RATIO = 6.0
TARGET_RSS_MB = 30.0


# -- the emulator, in its own process --------------------------------------------


class Emulator:
    """``python -m voice_async.testing`` on a free port, stopped with SIGTERM."""

    def __init__(self, sessions: int, latency: float) -> None:
        cmd = [sys.executable, "-m", "voice_async.testing", "--port", "0"]
        cmd += ["--sessions", str(sessions), "--latency", str(latency)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        banner = ""
        while "Press Ctrl-C" not in banner:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the emulator exited before it was ready")
            banner += line
        self.base_url = _grab(r"running at (\S+)", banner)
        self.api_key = _grab(r"STATESET_VOICE_API_KEY=(\S+)", banner)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _grab(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"emulator banner without {pattern!r}")
    return match.group(1)


# -- memory -----------------------------------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


# -- the variants (run in a child process) ------------------------------------


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


async def run_naive(base_url: str, api_key: str, page_size: int, sink: Sink) -> None:
    import aiohttp

    headers = {"Authorization": f"Bearer {api_key}"}
    url = f"{base_url}/api/v1/voice-sessions"
    offset = 0
    async with aiohttp.ClientSession(headers=headers) as http:
        while True:
            params = {"limit": str(page_size), "offset": str(offset)}
            async with http.get(url, params=params) as resp:
                resp.raise_for_status()
                body = await resp.json()
            for item in body["data"]:
                sink.take(item["id"], item)
            offset += len(body["data"])
            if not body["has_more"]:
                return


async def run_raw_concurrent(
    base_url: str, api_key: str, page_size: int, concurrency: int, sink: Sink
) -> None:
    """Known total from the first page, then a sliding window of requests."""
    import aiohttp

    headers = {"Authorization": f"Bearer {api_key}"}
    url = f"{base_url}/api/v1/voice-sessions"
    async with aiohttp.ClientSession(headers=headers) as http:

        async def page(offset: int) -> Any:
            params = {"limit": str(page_size), "offset": str(offset)}
            async with http.get(url, params=params) as resp:
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


async def run_iter(
    base_url: str, api_key: str, page_size: int, concurrency: int, sink: Sink
) -> None:
    from voice_async import AsyncVoiceClient
    from voice_async._convert import unstructure

    write = sink.out is not None
    async with AsyncVoiceClient(api_key=api_key, base_url=base_url) as client:
        iterator = client.sessions.iter(page_size=page_size, concurrency=concurrency)
        async with iterator:
            async for session in iterator:
                sink.take(session.id, unstructure(session) if write else None)


def child(args: argparse.Namespace) -> None:
    import aiohttp  # imported before the baseline, as the SDK imports it too

    import voice_async  # noqa: F401

    sink = Sink(args.write)
    if args.variant == "naive":
        work = run_naive(args.base_url, args.api_key, args.page_size, sink)
    elif args.variant == "raw-c8":
        work = run_raw_concurrent(args.base_url, args.api_key, args.page_size, 8, sink)
    else:
        concurrency = 8 if args.variant == "iter-c8" else 1
        work = run_iter(args.base_url, args.api_key, args.page_size, concurrency, sink)
    del aiohttp
    reset = _reset_peak()
    baseline = _status_kib("VmRSS")
    started = time.perf_counter()
    asyncio.run(work)
    seconds = time.perf_counter() - started
    growth_mb = (_status_kib("VmHWM") - baseline) / 1024
    result = {
        "variant": args.variant,
        "seconds": seconds,
        "count": sink.count,
        "digest": sink.digest.hexdigest(),
        "rss_growth_mb": growth_mb,
        "peak_reset": reset,
    }
    print(json.dumps(result))


# -- the driver ------------------------------------------------------------------


def run_variant(variant: str, emu: Emulator, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", variant, "--base-url", emu.base_url]
    cmd += ["--page-size", str(args.page_size)] + (["--write"] if args.write else [])
    env = {**os.environ, "BENCH_API_KEY": emu.api_key}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def report(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> int:
    digests = {r["digest"] for runs in results.values() for r in runs}
    counts = {r["count"] for runs in results.values() for r in runs}
    print(
        f"\nsessions={args.sessions} page_size={args.page_size} latency={args.latency}s "
        f"rounds={args.rounds} write={args.write}"
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    naive = statistics.median(r["seconds"] for r in results["naive"])
    print(f"{'variant':<10} {'seconds':>8} {'pages/s':>8} {'vs naive':>9} {'RSS growth':>11}")
    for variant, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        rss = max(r["rss_growth_mb"] for r in runs)
        pages = args.sessions / args.page_size / seconds
        print(f"{variant:<10} {seconds:8.2f} {pages:8.0f} {naive / seconds:8.2f}x {rss:8.1f} MB")
    c8 = statistics.median(r["seconds"] for r in results["iter-c8"])
    rss_max = max(r["rss_growth_mb"] for runs in results.values() for r in runs)
    ok = counts == {args.sessions} and len(digests) == 1
    print(f"every variant yielded the same {args.sessions} sessions in order: {ok}")
    print(
        f"target iter-c8 >= {TARGET_RATIO}x naive: {naive / c8:.2f}x "
        f"({'met' if naive / c8 >= TARGET_RATIO else 'MISSED'}); "
        f"RSS growth <= {TARGET_RSS_MB} MB: {rss_max:.1f} MB "
        f"({'met' if rss_max <= TARGET_RSS_MB else 'MISSED'})"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per list request")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="also write JSONL to /dev/null")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.variant, args.api_key = args.child, os.environ["BENCH_API_KEY"]
        child(args)
        return 0
    emu = Emulator(args.sessions, args.latency)
    try:
        results: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
        for round_ in range(args.rounds):
            order = VARIANTS if round_ % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                result = run_variant(variant, emu, args)
                results[variant].append(result)
                print(
                    f"round {round_ + 1} {variant:<9} {result['seconds']:7.2f}s "
                    f"rss +{result['rss_growth_mb']:.1f} MB  count={result['count']}",
                    flush=True,
                )
    finally:
        emu.stop()
    return report(results, args)


if __name__ == "__main__":
    sys.exit(main())
