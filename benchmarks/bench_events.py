"""P3: live events -- the SDK's typed ``EventStream`` vs a raw websockets loop, same run.

    .venv/bin/python -m benchmarks.bench_events [--events 200000] [--rounds 7] [--profile]

The emulator runs in a child process pinned to its own CPU (this process, the
clients, is pinned to another one) and serves one finished session of
``--events`` small synthetic events, as fast as it can.  Clients:

* ``sdk``: ``async for event in client.sessions.events(id)`` -> typed
  ``SessionEvent``s, with seq tracking, dedup and gap checks;
* ``raw``: ``websockets.asyncio.client.connect`` + ``json.loads`` per frame,
  with the SDK's transport settings (no compression, same ``max_queue``);
* ``recv-only``: the raw loop without ``json.loads``.  It is the ceiling of
  server + socket: were it no faster than ``raw``, the server would be the
  bottleneck and the ratio would flatter the SDK.

Each round streams the whole session once per client, back to back, in a
rotating order; the ratio reported is the median of the per-round ratios
(robust to the machine getting busier between rounds), next to the median
events/s and the client CPU per event (``process_time``: client cost apart
from server cost; its ratio is raw's CPU over the SDK's, per round, median).
Target: SDK >= 0.7x raw.

Then the emulator drops the socket every ``--drop-every`` events (abrupt TCP
close, then close code 1012) and the SDK stream must deliver seqs 1..N exactly
once, in order; those rows compare with the SDK's own drop-free rate.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing as mp
import os
import pstats
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

from websockets.asyncio.client import connect

from voice_async import AsyncVoiceClient

from ._common import (
    LeanServer,
    Row,
    Sample,
    cpu_timer,
    interleave,
    median,
    paired,
    pin_client,
    result,
    timed,
    versus,
)

CASE = "P3"
TARGET = 0.85
MAX_QUEUE = 16  # the SDK's default, given to the raw clients too
DROP_MODES = ("abrupt", "1012")


# -- the emulator, in its own process ------------------------------------------------
# Not ``EmulatorProcess`` (the CLI): this benchmark needs ``add_event_session``
# and ``faults.ws_drop_every``, so the child runs the Emulator API and takes
# commands over a pipe.


def _serve(conn: Connection, n_events: int) -> None:
    asyncio.run(_serve_async(conn, n_events))


async def _serve_async(conn: Connection, n_events: int) -> None:
    from voice_async.testing import Emulator

    loop = asyncio.get_running_loop()
    async with Emulator() as emu:
        conn.send((emu.base_url, emu.api_key, emu.add_event_session(n_events)))
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "stop":
                return
            emu.faults.ws_drop_every(command[1], command[2])  # ("drop", k | None, mode)
            conn.send((emu.stats.ws_connects, emu.stats.ws_drops))


class Server:
    """The emulator child: ``with Server(n) as server:`` -> base_url, api_key, session_id."""

    def __init__(self, n_events: int) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, n_events), daemon=True)
        self.n_events = n_events
        self.base_url = self.api_key = self.session_id = ""

    def __enter__(self) -> Server:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self._proc.start()
        if len(cpus) >= 2 and self._proc.pid is not None:
            os.sched_setaffinity(self._proc.pid, {cpus[-1]})
        pin_client()
        self.base_url, self.api_key, self.session_id = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send(("stop",))
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()

    def drops(self, every: int | None, mode: str = "abrupt") -> tuple[int, int]:
        """Set the drop fault; returns the emulator's (ws_connects, ws_drops) so far."""
        self._conn.send(("drop", every, mode))
        counters: tuple[int, int] = self._conn.recv()
        return counters

    @property
    def ws_url(self) -> str:
        return events_url(self.base_url, self.session_id)


def events_url(base_url: str, session_id: str) -> str:
    base = base_url.replace("http://", "ws://", 1)
    return f"{base}/api/v1/voice-sessions/{session_id}/events?after_seq=0"


class Lean(LeanServer):
    """The lean server with one finished session of ``n_events`` pre-encoded events."""

    def __init__(self, n_events: int) -> None:
        super().__init__(events=n_events)
        self.n_events = n_events

    @property
    def ws_url(self) -> str:
        return events_url(self.base_url, self.session_id)


# -- the clients ---------------------------------------------------------------------

Source = Server | Lean
Stream = Callable[[Source, AsyncVoiceClient], Awaitable[int]]


async def recv_only(server: Source, _: AsyncVoiceClient) -> int:
    count = 0
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with connect(
        server.ws_url, additional_headers=headers, compression=None, max_queue=MAX_QUEUE
    ) as ws:
        async for _frame in ws:
            count += 1
    return count


async def raw(server: Source, _: AsyncVoiceClient) -> int:
    count = 0
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with connect(
        server.ws_url, additional_headers=headers, compression=None, max_queue=MAX_QUEUE
    ) as ws:
        async for frame in ws:
            json.loads(frame)
            count += 1
    return count


async def sdk(server: Source, client: AsyncVoiceClient) -> int:
    count = 0
    async with client.sessions.events(server.session_id) as stream:
        async for _event in stream:
            count += 1
    return count


CLIENTS: dict[str, Stream] = {"sdk": sdk, "raw": raw, "recv-only": recv_only}


def one_stream(
    stream: Stream, server: Source, client: AsyncVoiceClient
) -> Callable[[], Awaitable[Sample]]:
    """A measurable batch: the whole session streamed once; the count is checked."""

    async def work() -> int:
        got = await stream(server, client)
        if got != server.n_events:
            raise RuntimeError(f"received {got} events, expected {server.n_events}")
        return got

    return lambda: timed(work)


async def compare(server: Source, client: AsyncVoiceClient, rounds: int) -> dict[str, list[Sample]]:
    contenders = {name: one_stream(s, server, client) for name, s in CLIENTS.items()}
    samples = await interleave(contenders, rounds)
    for name, got in samples.items():
        print(f"  {name:<9} events/s per round: " + ", ".join(f"{r:,.0f}" for r, _ in got))
    return samples


async def with_drops(
    server: Server, client: AsyncVoiceClient, every: int, mode: str, clean_rate: float
) -> Row:
    """Stream through drops; the row fails unless seqs 1..N came once, in order."""
    connects0, drops0 = server.drops(every, mode)
    expected, in_order = 1, True
    with cpu_timer() as elapsed:
        async with client.sessions.events(server.session_id) as stream:
            async for event in stream:
                in_order = in_order and event.seq == expected
                expected += 1
    wall, _ = elapsed()
    connects, drops = server.drops(None)
    delivered = expected - 1
    exact = in_order and delivered == server.n_events
    print(
        f"  drop every {every:,} ({mode}): {delivered:,} of {server.n_events:,} events, "
        f"{'exactly once and in order' if exact else 'NOT EXACTLY ONCE'}; "
        f"{stream.reconnects} reconnects, {drops - drops0} server drops, "
        f"{connects - connects0} handshakes, {stream.duplicates} duplicates dropped, {wall:.2f}s"
    )
    row = result(
        CASE,
        f"{server.n_events:,} events, socket dropped every {every:,} ({mode})",
        sdk=delivered / wall,
        baseline=clean_rate,
        baseline_name="sdk, no drops",
        unit="events/s",
        note=f"{'exactly once, in order' if exact else 'LOST OR REORDERED'}; "
        f"{stream.reconnects} reconnects",
    )
    if not exact:
        row["ok"] = False
    return row


def _rows(n_events: int, samples: dict[str, list[Sample]], informational: bool) -> list[Row]:
    ceiling = paired(samples["raw"], samples["recv-only"])[0]
    row = versus(
        CASE,
        f"{n_events:,} events streamed, typed" + (" (emulator, informational)" * informational),
        samples,
        "sdk",
        "raw",
        unit="events/s",
        target=None if informational else TARGET,
        note=f"raw = websockets + json.loads, at {ceiling:.2f}x of recv-only",
    )
    return [row]


async def run_async(n_events: int, rounds: int, drop_every: int, emulator: bool) -> list[Row]:
    pin_client()
    with Lean(n_events) as lean:
        async with AsyncVoiceClient(api_key=lean.api_key, base_url=lean.base_url) as client:
            rows = _rows(n_events, await compare(lean, client, rounds), informational=False)
    if not emulator:
        return rows
    with Server(n_events) as server:
        async with AsyncVoiceClient(api_key=server.api_key, base_url=server.base_url) as client:
            samples = await compare(server, client, max(rounds // 2, 1))
            rows += _rows(n_events, samples, informational=True)
            clean = median([s[0] for s in samples["sdk"]])
            for mode in DROP_MODES:
                rows.append(await with_drops(server, client, drop_every, mode, clean))
    return rows


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    if quick:
        return asyncio.run(run_async(2_000, rounds=2, drop_every=500, emulator=False))
    return asyncio.run(run_async(100_000, rounds=9, drop_every=1_000, emulator=True))


async def profile_sdk(n_events: int) -> None:
    """cProfile of the SDK stream alone (the server is in its own process)."""
    pin_client()
    with Lean(n_events) as server:
        async with AsyncVoiceClient(api_key=server.api_key, base_url=server.base_url) as client:
            await one_stream(sdk, server, client)()
            profiler = cProfile.Profile()
            profiler.enable()
            await one_stream(sdk, server, client)()
            profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-emulator", action="store_true", help="skip the emulator rows")
    parser.add_argument("--drop-every", type=int, default=1_000)
    parser.add_argument("--profile", action="store_true", help="profile the SDK instead")
    args = parser.parse_args(argv)
    if args.profile:
        asyncio.run(profile_sdk(args.events))
        return 0
    rows = asyncio.run(run_async(args.events, args.rounds, args.drop_every, not args.no_emulator))
    from .run import print_table

    print_table(rows)
    return 0 if all(row["ok"] is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
