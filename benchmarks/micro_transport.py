"""Per-call costs on the ``make_call`` path, item by item (evidence for the transport list).

    .venv/bin/python -m benchmarks.micro_transport [--number 200000]

Each line times one thing the SDK does per call against a cheaper way of
doing the same, in this process, without the network (best of 7 runs of
``--number`` iterations; microseconds per call).  The SDK's own objects are
used where they exist (``Transport.headers``, ``Transport.url``...), so the
figures follow the code.  Not part of the runner's table (no ``run()``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import time
import timeit
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import aiohttp

from voice_async import AsyncVoiceClient
from voice_async._config import to_timeout
from voice_async._convert import _STRUCTURE_HOOKS, DECODERS, loads, structure
from voice_async._models import Call

from ._lean_server import CALL

BODY = {"to": "+15555555678", "from": "+15555551234", "agent_key": "support_primary"}
ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def best_us(fn: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e6


def compare(title: str, now: Callable[[], Any], better: Callable[[], Any], number: int) -> None:
    a, b = best_us(now, number), best_us(better, number)
    print(f"  {title:<66} {a:6.2f} -> {b:6.2f} us  (saves {a - b:5.2f})")


async def layers(depth: int, number: int) -> float:
    """Cost of ``depth`` nested coroutines passing six keyword arguments on, per call, in us.

    Six keywords, as ``make_call`` -> ``calls.create`` -> ``Transport.request``
    pass them (``to``, ``from_``, ``agent_key``, ``metadata``, ...).
    """

    async def leaf(*, a: Any, b: Any, c: Any, d: Any, e: Any, f: Any) -> int:
        return 1

    async def wrap(level: int, *, a: Any, b: Any, c: Any, d: Any, e: Any, f: Any) -> int:
        if level:
            return await wrap(level - 1, a=a, b=b, c=c, d=d, e=e, f=f)
        return await leaf(a=a, b=b, c=c, d=d, e=e, f=f)

    loop = asyncio.get_running_loop()
    best = float("inf")
    for _ in range(7):
        start = loop.time()
        for _ in range(number):
            await wrap(depth, a=1, b=2, c=3, d=None, e=None, f=None)
        best = min(best, loop.time() - start)
    return best / number * 1e6


async def main_async(number: int) -> None:
    client = AsyncVoiceClient(api_key="sk_bench_0123456789abcdef", base_url="http://127.0.0.1:1")
    transport = client._transport  # the SDK's own objects, measured as they are
    path = "/api/v1/make-call"
    url_cache = {path: transport.url(path)}
    tenant_headers = transport.headers("tenant")
    cached_timeout = aiohttp.ClientTimeout(total=30.0, connect=10.0)
    body = CALL
    print("per call, now -> cheaper:")
    compare(
        "idempotency key: str(uuid.uuid4()) -> secrets.token_hex(16)",
        lambda: str(uuid.uuid4()),
        lambda: secrets.token_hex(16),
        number,
    )
    compare(
        "idempotency key: str(uuid.uuid4()) -> os.urandom(16).hex()",
        lambda: str(uuid.uuid4()),
        lambda: os.urandom(16).hex(),
        number,
    )
    compare(
        "body: json.dumps(separators=, ensure_ascii=False) -> one encoder",
        lambda: json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode(),
        lambda: ENCODER.encode(BODY).encode(),
        number,
    )
    compare(
        "headers: Transport.headers('tenant') -> dict(cached per auth)",
        lambda: transport.headers("tenant"),
        lambda: dict(tenant_headers),
        number,
    )
    compare(
        "URL: Transport.url(path) (yarl with_path) -> dict cache",
        lambda: transport.url(path),
        lambda: url_cache[path],
        number,
    )
    compare(
        "timeout: to_timeout + aiohttp.ClientTimeout(...) -> cached",
        lambda: aiohttp.ClientTimeout(total=to_timeout(None).total, connect=10.0),
        lambda: cached_timeout,
        number,
    )
    compare(
        "response: json.loads(bytes) -> _convert.loads (no NaN too)",
        lambda: json.loads(body),
        lambda: loads(body),
        number,
    )
    data = json.loads(body)
    compare(
        "Call: cattrs generic hook -> generated decoder (done)",
        lambda: _STRUCTURE_HOOKS[Call](data, Call),
        lambda: DECODERS[Call](data),
        number,
    )
    compare(
        "Call: structure() wrapper -> DECODERS[Call] directly",
        lambda: structure(data, Call),
        lambda: DECODERS[Call](data),
        number,
    )
    compare(
        "session(): asyncio.get_running_loop() per attempt -> none",
        transport.session,
        lambda: None,
        number,
    )
    five, one = await layers(4, number // 4), await layers(0, number // 4)
    title = "five nested coroutines (six keywords passed on) -> one"
    print(f"  {title:<66} {five:6.2f} -> {one:6.2f} us  (saves {five - one:5.2f})")
    await client.aclose()


class _Response:
    """Just enough of an aiohttp response for the SDK and the raw client."""

    status = 201
    headers: ClassVar[dict[str, str]] = {
        "Content-Type": "application/json",
        "x-request-id": "req_1",
    }

    async def read(self) -> bytes:
        return CALL

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class StubSession:
    """An ``aiohttp.ClientSession`` stand-in that answers at once: no network at all."""

    closed = False
    response = _Response()

    def request(self, method: str, url: Any, **kwargs: Any) -> _Response:
        return self.response

    def post(self, url: Any, **kwargs: Any) -> _Response:
        return self.response

    async def close(self) -> None:
        return None


async def stubbed(number: int, profile: bool) -> None:
    """The whole ``make_call`` vs a raw client's per-call work, network stubbed out."""
    stub = StubSession()
    client = AsyncVoiceClient(
        api_key="sk_bench_0123456789abcdef",
        base_url="http://127.0.0.1:1",
        http_session=stub,  # type: ignore[arg-type]
    )
    headers = {"Authorization": "Bearer sk_bench_0123456789abcdef", "Accept": "application/json"}

    async def sdk() -> None:
        await client.make_call(to=BODY["to"], from_=BODY["from"], agent_key=BODY["agent_key"])

    async def raw() -> None:
        key = {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
        data = json.dumps(BODY).encode()
        async with stub.post(
            "http://127.0.0.1:1/api/v1/make-call", data=data, headers={**headers, **key}
        ) as resp:
            json.loads(await resp.read())

    for name, call in (("sdk", sdk), ("raw", raw)):
        best = float("inf")
        for _ in range(7):
            start = time.process_time()
            for _ in range(number):
                await call()
            best = min(best, time.process_time() - start)
        print(f"  network stubbed out, CPU per call: {name:<4} {best / number * 1e6:6.2f} us")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(number):
            await sdk()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the stubbed make_call")
    args = parser.parse_args(argv)
    asyncio.run(stubbed(args.number // 10, args.profile))
    asyncio.run(main_async(args.number))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
