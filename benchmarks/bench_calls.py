"""P1: ``make_call`` -- the SDK vs a raw aiohttp client, against the lean server.

    .venv/bin/python -m benchmarks.bench_calls [--calls 640] [--rounds 15] [--profile]

The lean server (``benchmarks._lean_server``: a fixed pre-encoded answer) runs
in a child process pinned to its own CPU; this process, the clients, is pinned
to the other.  Contenders, each with a pool of 100 connections:

* ``sdk``: ``client.make_call(...)`` -> a typed ``Call`` (validation, an
  idempotency key, retries armed, model decoding);
* ``raw aiohttp``: what a careful hand-written client does for the same call:
  a ``uuid4`` idempotency key, ``json.dumps`` of the body, ``session.post``
  with the same headers, ``json.loads`` of the answer.

At 1 and at 32 in flight, each round runs both back to back in a rotating
order.  Reported: the median of the per-round throughput ratios with their
min-max, and the median client CPU per call (``time.process_time``: the
client's own cost; the server's CPU is not counted).  The same comparison
against the full emulator is an informational row: the emulator costs far
more CPU per call than either client, which hides the SDK's own cost.
``--profile`` prints where the SDK's own time goes.
Targets: SDK >= 0.95x raw aiohttp at 1 and at 32 in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp

from voice_async import AsyncVoiceClient

from ._common import (
    EmulatorProcess,
    LeanServer,
    Row,
    Sample,
    ServerProcess,
    interleave,
    pin_client,
    timed,
    versus,
)

CASE = "P1"
TO, FROM, AGENT = "+15555555678", "+15555551234", "support_primary"
BODY = {"to": TO, "from": FROM, "agent_key": AGENT}
POOL = 100
CONCURRENCY = (1, 32)
TARGET = 0.95
#: The SDK's own client CPU per call may exceed the raw client's by this much (us).
CPU_BUDGET_US = 10.0

Call = Callable[[], Awaitable[None]]


@asynccontextmanager
async def sdk(server: ServerProcess) -> AsyncIterator[Call]:
    async with AsyncVoiceClient(
        api_key=server.api_key, base_url=server.base_url, max_connections=POOL
    ) as client:

        async def call() -> None:
            await client.make_call(to=TO, from_=FROM, agent_key=AGENT)

        yield call


@asynccontextmanager
async def raw_aiohttp(server: ServerProcess) -> AsyncIterator[Call]:
    url = f"{server.base_url}/api/v1/make-call"
    base = {
        "Authorization": f"Bearer {server.api_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    connector = aiohttp.TCPConnector(limit=POOL)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            headers = {**base, "Idempotency-Key": str(uuid.uuid4())}
            body = json.dumps(BODY).encode()
            async with session.post(url, data=body, headers=headers) as resp:
                data = json.loads(await resp.read())
            if resp.status != 201 or "session_id" not in data:
                raise RuntimeError(f"aiohttp: HTTP {resp.status}")

        yield call


CLIENTS = {"sdk": sdk, "raw aiohttp": raw_aiohttp}


def batch(call: Call, calls: int, concurrency: int) -> Callable[[], Awaitable[Sample]]:
    """A measurable batch: ``calls`` calls, ``concurrency`` of them in flight."""
    per_worker = max(calls // concurrency, 1)

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    async def work() -> int:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return per_worker * concurrency

    return lambda: timed(work)


def with_cpu_budget(row: Row) -> Row:
    """The second P1 target on the row: SDK client CPU <= raw + ``CPU_BUDGET_US`` per call."""
    sdk_cpu, raw_cpu = row["cpu"]
    extra = sdk_cpu - raw_cpu
    row["note"] = f"{row['note']}; CPU {extra:+.1f} us/call (<= +{CPU_BUDGET_US:g})"
    if row["ok"] and extra > CPU_BUDGET_US:
        row["ok"] = False
    return row


async def compare(server: ServerProcess, calls: int, rounds: int) -> list[Row]:
    rows: list[Row] = []
    async with AsyncExitStack() as stack:
        opened = {name: await stack.enter_async_context(f(server)) for name, f in CLIENTS.items()}
        for concurrency in CONCURRENCY:
            n = calls if concurrency > 1 else calls // 2
            contenders = {name: batch(call, n, concurrency) for name, call in opened.items()}
            samples = await interleave(contenders, rounds)
            for name, got in samples.items():
                print(f"  {concurrency:>2} in flight  {name:<12} calls/s per round: ", end="")
                print(", ".join(f"{rate:,.0f}" for rate, _ in got))
            row = versus(
                CASE,
                f"make_call, {concurrency} in flight",
                samples,
                "sdk",
                "raw aiohttp",
                unit="calls/s",
                target=TARGET,
            )
            rows.append(with_cpu_budget(row))
    return rows


async def run_async(calls: int, rounds: int, emulator_rounds: int) -> list[Row]:
    pin_client()
    with LeanServer() as server:
        rows = await compare(server, calls, rounds)
    if emulator_rounds:
        with EmulatorProcess() as emu:
            for row in await compare(emu, calls // 2, emulator_rounds):
                row.update(metric=row["metric"] + " (emulator, informational)", target="", ok=None)
                rows.append(row)
    return rows


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    if quick:
        return asyncio.run(run_async(calls=64, rounds=2, emulator_rounds=0))
    return asyncio.run(run_async(calls=640, rounds=15, emulator_rounds=5))


async def profile_sdk(calls: int, concurrency: int) -> None:
    """cProfile of the SDK client alone (the lean server is in its own process)."""
    pin_client()
    with LeanServer() as server:
        async with sdk(server) as call:
            await batch(call, 200, concurrency)()
            profiler = cProfile.Profile()
            profiler.enable()
            await batch(call, calls, concurrency)()
            profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats("voice_async", 20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--calls", type=int, default=640, help="per client per round (half at 1 in flight)"
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--emulator-rounds", type=int, default=5, help="0 to skip")
    parser.add_argument("--profile", action="store_true", help="profile the SDK instead")
    parser.add_argument("--concurrency", type=int, default=32, help="for --profile")
    args = parser.parse_args(argv)
    if args.profile:
        asyncio.run(profile_sdk(args.calls, args.concurrency))
        return 0
    rows = asyncio.run(run_async(args.calls, args.rounds, args.emulator_rounds))
    from .run import print_table

    print_table(rows)
    return 0 if all(row["ok"] is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
