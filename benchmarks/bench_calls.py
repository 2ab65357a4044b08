"""P1: ``make_call`` throughput -- the SDK vs raw aiohttp vs httpx, same run, same server.

    .venv/bin/python -m benchmarks.bench_calls [--calls 640] [--rounds 25] [--profile]

The emulator runs in a child process pinned to its own CPU; this process (the
clients) is pinned to another, so the clients are compared under identical
conditions and the server's work is not charged to them.  Each client places
the same call the same way:

* ``sdk``: ``client.make_call(...)`` -> a typed ``Call`` (validation, idempotency
  key, retries armed, model decoding);
* ``aiohttp``: a raw ``ClientSession.post`` with the same headers and JSON body,
  then ``json.loads`` of the answer -- the floor the SDK is built on;
* ``httpx``: ``httpx.AsyncClient.post`` with the same request, then ``.json()``.

Every client keeps up to 100 pooled connections.  Each round runs every
client once, back to back, in a rotating order; reported are the median
calls/s over the rounds and the median client CPU per call (``process_time``:
the client's own cost, whatever the server does).  On a shared machine the
per-round figures swing widely: the script prints them all.
``--profile`` prints where the SDK's own time goes.
Targets: SDK >= 0.90x raw aiohttp and >= 1.5x httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import aiohttp
import httpx

from voice_async import AsyncVoiceClient

from ._common import EmulatorProcess, Row, cpu_timer, median, pin_client, result

CASE = "P1"
TO, FROM, AGENT = "+15555555678", "+15555551234", "support_primary"
BODY = {"to": TO, "from": FROM, "agent_key": AGENT}
POOL = 100
CONCURRENCY = (1, 32)
TARGETS = {"aiohttp": 0.90, "httpx": 1.5}
#: Clients several times slower get proportionally fewer calls per round, so
#: every client gets about the same wall time (rates do not depend on counts).
SLOWER = {"httpx": 4}

Call = Callable[[], Awaitable[None]]
ClientFactory = Callable[[EmulatorProcess], AbstractAsyncContextManager[Call]]


def _headers(emu: EmulatorProcess) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {emu.api_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }


@asynccontextmanager
async def sdk(emu: EmulatorProcess) -> AsyncIterator[Call]:
    async with AsyncVoiceClient(
        api_key=emu.api_key, base_url=emu.base_url, max_connections=POOL
    ) as client:

        async def call() -> None:
            await client.make_call(to=TO, from_=FROM, agent_key=AGENT)

        yield call


@asynccontextmanager
async def raw_aiohttp(emu: EmulatorProcess) -> AsyncIterator[Call]:
    url = f"{emu.base_url}/api/v1/make-call"
    connector = aiohttp.TCPConnector(limit=POOL)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            body = json.dumps(BODY).encode()
            async with session.post(url, data=body, headers=_headers(emu)) as resp:
                data = json.loads(await resp.read())
            if resp.status != 201 or "session_id" not in data:
                raise RuntimeError(f"aiohttp: HTTP {resp.status}")

        yield call


@asynccontextmanager
async def raw_httpx(emu: EmulatorProcess) -> AsyncIterator[Call]:
    url = f"{emu.base_url}/api/v1/make-call"
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    async with httpx.AsyncClient(limits=limits) as client:

        async def call() -> None:
            resp = await client.post(url, content=json.dumps(BODY).encode(), headers=_headers(emu))
            data = resp.json()
            if resp.status_code != 201 or "session_id" not in data:
                raise RuntimeError(f"httpx: HTTP {resp.status_code}")

        yield call


CLIENTS: dict[str, ClientFactory] = {"sdk": sdk, "aiohttp": raw_aiohttp, "httpx": raw_httpx}


async def measure(call: Call, calls: int, concurrency: int) -> tuple[float, float]:
    """(calls per second, client CPU microseconds per call) for ``calls`` calls."""
    per_worker = calls // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    with cpu_timer() as elapsed:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = elapsed()
    done = per_worker * concurrency
    return done / wall, cpu / done * 1e6


Sample = tuple[float, float]  # (calls/s, client CPU us per call) of one batch


async def compare(
    emu: EmulatorProcess, calls: int, rounds: int, concurrency: int
) -> dict[str, list[Sample]]:
    """Per client, one sample per round; each round runs every client back to back.

    Rounds are short and rotate the clients' order, so a slow phase of the
    machine (another process waking up) is spread over every client alike.
    """
    samples: dict[str, list[Sample]] = {name: [] for name in CLIENTS}
    async with _open_all(emu) as calls_by_name:
        for call in calls_by_name.values():  # warm up: connections, caches
            await measure(call, concurrency * 20, concurrency)
        names = list(CLIENTS)
        for index in range(rounds):
            order = names[index % len(names) :] + names[: index % len(names)]
            for name in order:
                n = max(calls // SLOWER.get(name, 1), concurrency * 5)
                samples[name].append(await measure(calls_by_name[name], n, concurrency))
    return samples


@asynccontextmanager
async def _open_all(emu: EmulatorProcess) -> AsyncIterator[dict[str, Call]]:
    opened: dict[str, Call] = {}
    managers = [(name, factory(emu)) for name, factory in CLIENTS.items()]
    try:
        for name, manager in managers:
            opened[name] = await manager.__aenter__()
        yield opened
    finally:
        for name, manager in reversed(managers):
            if name in opened:
                await manager.__aexit__(None, None, None)


def _rows(concurrency: int, samples: dict[str, list[Sample]]) -> list[Row]:
    """Throughput vs each baseline, then (informational) client CPU per call vs aiohttp."""
    rate = {name: median([s[0] for s in got]) for name, got in samples.items()}
    cpu = {name: median([s[1] for s in got]) for name, got in samples.items()}
    metric = f"make_call, {concurrency} in flight"
    rows = [
        result(
            CASE,
            metric,
            sdk=rate["sdk"],
            baseline=rate[name],
            baseline_name=f"raw {name}",
            unit="calls/s",
            target=target,
            note=f"{len(samples['sdk'])} rounds",
        )
        for name, target in TARGETS.items()
    ]
    rows.append(
        result(
            CASE,
            f"{metric}: client CPU per call",
            sdk=cpu["sdk"],
            baseline=cpu["aiohttp"],
            baseline_name="raw aiohttp",
            unit="us",
            better="lower",
            note=f"httpx {cpu['httpx']:,.0f} us",
        )
    )
    return rows


async def run_async(calls: int, rounds: int) -> list[Row]:
    pin_client()
    rows: list[Row] = []
    with EmulatorProcess() as emu:
        for concurrency in CONCURRENCY:
            n = calls if concurrency > 1 else calls // 2
            samples = await compare(emu, n, rounds, concurrency)
            for name, got in samples.items():
                rates = ", ".join(f"{rate:,.0f}" for rate, _ in got)
                print(f"  {concurrency:>2} in flight  {name:<8} calls/s per round: {rates}")
            rows += _rows(concurrency, samples)
    return rows


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    return asyncio.run(run_async(calls=320 if quick else 640, rounds=5 if quick else 25))


async def profile_sdk(calls: int, concurrency: int) -> None:
    """cProfile of the SDK client alone (the server is in its own process)."""
    pin_client()
    with EmulatorProcess() as emu:
        async with sdk(emu) as call:
            await measure(call, 200, concurrency)
            profiler = cProfile.Profile()
            profiler.enable()
            await measure(call, calls, concurrency)
            profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats("voice_async", 20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--calls", type=int, default=640, help="per client per round (half at 1 in flight)"
    )
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--profile", action="store_true", help="profile the SDK instead")
    parser.add_argument("--concurrency", type=int, default=32, help="for --profile")
    args = parser.parse_args(argv)
    if args.profile:
        asyncio.run(profile_sdk(args.calls, args.concurrency))
        return 0
    rows = asyncio.run(run_async(args.calls, args.rounds))
    from .run import print_table

    print_table(rows)
    return 0 if all(row["ok"] is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
