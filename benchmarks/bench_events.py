"""P3: live events -- SDK ``EventStream`` vs a raw ``websockets`` + ``json.loads`` loop.

    .venv/bin/python benchmarks/bench_events.py [--events 200000] [--rounds 5]

The emulator runs in a child process (its own CPU, its own event loop), so the
client side is what is measured.  Each round streams the same finished session
of ``--events`` synthetic events once through each client, alternating the
order.  Reported per client: events per wall-clock second, and events per
second of the client process's own CPU time (``time.process_time``; the
emulator's CPU is in the child and not counted).  The CPU figure is what the
client costs and is stable on a shared, noisy machine; wall-clock is what a
user sees.  Ratios are of medians.

Clients:

* ``recv-only``: raw websockets, frames read and dropped (server + socket
  ceiling: if it were no faster than ``raw``, the server would be the
  bottleneck and the ratio meaningless);
* ``raw``: raw websockets with ``json.loads`` per frame (the baseline);
* ``sdk``: ``client.sessions.events(...)`` -> typed ``SessionEvent``s, with
  seq tracking, dedup and gap checks.

Both websockets clients use the same transport settings as the SDK (no
compression, same ``max_queue``).  Then the emulator drops the socket every
``--drop-every`` events (abrupt close, then 1012) and the SDK stream must
deliver seqs 1..N exactly once, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import connect
from websockets.version import version as websockets_version

from voice_async import AsyncVoiceClient

MAX_QUEUE = 16  # the SDK's default, given to the raw clients too


# -- the emulator, in its own process ------------------------------------------


def _serve(conn: Connection, n_events: int) -> None:
    asyncio.run(_serve_async(conn, n_events))


async def _serve_async(conn: Connection, n_events: int) -> None:
    from voice_async.testing import Emulator

    loop = asyncio.get_running_loop()
    async with Emulator() as emu:
        session_id = emu.add_event_session(n_events)
        conn.send((emu.base_url, emu.api_key, session_id))
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "stop":
                return
            if command[0] == "drop":  # ("drop", k, mode) / ("drop", None, "abrupt")
                emu.faults.ws_drop_every(command[1], command[2])
            conn.send(("ok", emu.stats.ws_connects, emu.stats.ws_drops))


class Server:
    def __init__(self, n_events: int) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, n_events), daemon=True)
        self._proc.start()
        self.base_url, self.api_key, self.session_id = self._conn.recv()

    def command(self, *args: Any) -> tuple[Any, ...]:
        self._conn.send(args)
        reply: tuple[Any, ...] = self._conn.recv()
        return reply

    def stop(self) -> None:
        self._conn.send(("stop",))
        self._proc.join(10)


# -- the clients ---------------------------------------------------------------


def _ws_url(server: Server) -> str:
    base = server.base_url.replace("http://", "ws://", 1)
    return f"{base}/api/v1/voice-sessions/{server.session_id}/events?after_seq=0"


async def recv_only(server: Server, _: AsyncVoiceClient) -> int:
    count = 0
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with connect(
        _ws_url(server), additional_headers=headers, compression=None, max_queue=MAX_QUEUE
    ) as ws:
        async for _frame in ws:
            count += 1
    return count


async def raw(server: Server, _: AsyncVoiceClient) -> int:
    count = 0
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with connect(
        _ws_url(server), additional_headers=headers, compression=None, max_queue=MAX_QUEUE
    ) as ws:
        async for frame in ws:
            json.loads(frame)
            count += 1
    return count


async def sdk(server: Server, client: AsyncVoiceClient) -> int:
    count = 0
    async with client.sessions.events(server.session_id) as stream:
        async for _event in stream:
            count += 1
    return count


Runner = Callable[[Server, AsyncVoiceClient], Awaitable[int]]


async def timed(
    runner: Runner, server: Server, client: AsyncVoiceClient, n: int
) -> tuple[float, float]:
    """(events per wall second, events per client CPU second) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    got = await runner(server, client)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if got != n:
        raise SystemExit(f"{runner.__name__} received {got} events, expected {n}")
    return n / wall, n / cpu


async def throughput(server: Server, client: AsyncVoiceClient, n: int, rounds: int) -> None:
    runners: list[Runner] = [recv_only, raw, sdk]
    await timed(raw, server, client, n)  # warm up both sides (imports, caches)
    await timed(sdk, server, client, n)
    runs: dict[str, list[tuple[float, float]]] = {r.__name__: [] for r in runners}
    for i in range(rounds):
        order = runners if i % 2 == 0 else runners[::-1]
        for runner in order:
            runs[runner.__name__].append(await timed(runner, server, client, n))
    print(f"\n{n:,} events x {rounds} rounds, median (min..max):")
    print(f"  {'client':<10} {'events/s (wall)':>28} {'events per client CPU-s':>30}")
    medians: dict[str, tuple[float, float]] = {}
    for name, values in runs.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        medians[name] = (statistics.median(walls), statistics.median(cpus))
        print(
            f"  {name:<10} {medians[name][0]:>10,.0f} ({min(walls):>7,.0f}..{max(walls):>7,.0f})"
            f" {medians[name][1]:>12,.0f} ({min(cpus):>7,.0f}..{max(cpus):>7,.0f})"
        )
    wall_ratio = medians["sdk"][0] / medians["raw"][0]
    cpu_ratio = medians["sdk"][1] / medians["raw"][1]
    print(f"  sdk / raw: {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x client CPU  (target >= 0.70)")
    print(f"  raw / recv-only (wall): {medians['raw'][0] / medians['recv_only'][0]:.2f}x")


async def with_drops(
    server: Server, client: AsyncVoiceClient, n: int, every: int, mode: str
) -> None:
    _, connects_before, drops_before = server.command("drop", every, mode)
    started = time.perf_counter()
    expected = 1
    async with client.sessions.events(server.session_id) as stream:
        async for event in stream:
            if event.seq != expected:
                raise SystemExit(f"drop test: got seq {event.seq}, expected {expected}")
            expected += 1
    elapsed = time.perf_counter() - started
    _, connects, drops = server.command("drop", None, "abrupt")
    if expected - 1 != n:
        raise SystemExit(f"drop test: stream ended after {expected - 1} events of {n}")
    print(
        f"  drop every {every:,} ({mode}): {n:,} events exactly once, in order; "
        f"{stream.reconnects} reconnects ({drops - drops_before} server drops, "
        f"{connects - connects_before} handshakes), {stream.duplicates} duplicates dropped, "
        f"{elapsed:.2f}s = {n / elapsed:,.0f} events/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--drop-every", type=int, default=1000)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()} ({sys.platform}), "
        f"websockets {websockets_version}, emulator in a child process"
    )
    server = Server(args.events)
    try:
        async with AsyncVoiceClient(api_key=server.api_key, base_url=server.base_url) as client:
            await throughput(server, client, args.events, args.rounds)
            print("\nwith the emulator dropping the socket:")
            for mode in ("abrupt", "1012"):
                await with_drops(server, client, args.events, args.drop_every, mode)
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
