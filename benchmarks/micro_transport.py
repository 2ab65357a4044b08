"""Per-call costs on the ``make_call`` path, item by item (evidence for the transport list).

    .venv/bin/python -m benchmarks.micro_transport [--number 200000] [--profile]
    .venv/bin/python -m benchmarks.micro_transport --callgrind --number 10000 [--lean]

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
import re
import secrets
import subprocess
import sys
import time
import timeit
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from voice_async import AsyncVoiceClient
from voice_async._convert import _STRUCTURE_HOOKS, DECODERS, loads, structure
from voice_async._models import Call
from voice_async._timeout import Timeout

from ._common import LeanServer
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
        "timeout: aiohttp.ClientTimeout(...) per attempt -> cached",
        lambda: aiohttp.ClientTimeout(total=Timeout().total, connect=Timeout().connect),
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


class _Content:
    """The body stream: the whole body in one chunk, then end of stream (as aiohttp)."""

    __slots__ = ("_body",)

    def __init__(self) -> None:
        self._body = CALL

    async def readany(self) -> bytes:
        body, self._body = self._body, b""
        return body


class _Response:
    """Just enough of an aiohttp response for the SDK and the raw client (one per request)."""

    __slots__ = ("content",)
    status = 201
    content_length = len(CALL)
    headers: ClassVar[CIMultiDictProxy[str]] = CIMultiDictProxy(
        CIMultiDict({"Content-Type": "application/json", "x-request-id": "req_1"})
    )

    def __init__(self) -> None:
        self.content = _Content()

    async def read(self) -> bytes:
        return await self.content.readany()

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class StubSession:
    """An ``aiohttp.ClientSession`` stand-in that answers at once: no network at all."""

    closed = False
    trust_env = False  # read by the client (proxy settings from the environment)

    def request(self, method: str, url: Any, **kwargs: Any) -> _Response:
        return _Response()

    def post(self, url: Any, **kwargs: Any) -> _Response:
        return _Response()

    async def close(self) -> None:
        return None


def stubbed_calls(
    stub: StubSession | aiohttp.ClientSession,
    base_url: str = "http://127.0.0.1:1",
    api_key: str = "sk_bench_0123456789abcdef",
) -> dict[str, Callable[[], Awaitable[None]]]:
    """The two contenders: ``make_call`` and a raw client's same work, over one session."""
    client = AsyncVoiceClient(
        api_key=api_key,
        base_url=base_url,
        http_session=stub,  # type: ignore[arg-type]
    )
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    async def sdk() -> None:
        await client.make_call(to=BODY["to"], from_=BODY["from"], agent_key=BODY["agent_key"])

    async def raw() -> None:
        key = {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
        data = json.dumps(BODY).encode()
        async with stub.post(
            f"{base_url}/api/v1/make-call", data=data, headers={**headers, **key}
        ) as resp:
            json.loads(await resp.read())

    return {"sdk": sdk, "raw": raw}


async def stubbed(number: int, profile: bool) -> None:
    """The whole ``make_call`` vs a raw client's per-call work, network stubbed out."""
    calls = stubbed_calls(StubSession())
    for name, call in calls.items():
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
            await calls["sdk"]()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


async def run_only(name: str, number: int, lean: bool) -> None:
    """``number`` calls of one contender and nothing else (what callgrind counts).

    Stubbed, or with ``lean`` over real sockets to the lean server (a child
    process that valgrind does not follow: only the client is counted).
    """
    if not lean:
        call = stubbed_calls(StubSession())[name]
        for _ in range(number):
            await call()
        return
    with LeanServer() as server:
        async with aiohttp.ClientSession() as session:
            call = stubbed_calls(session, server.base_url, server.api_key)[name]
            for _ in range(number):
                await call()


def instructions(name: str, number: int, lean: bool) -> int:
    """Instructions callgrind counts for a whole process making ``number`` calls of ``name``."""
    out = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, "-m", "benchmarks.micro_transport", "--only", name,
            "--number", str(number), *(["--lean"] if lean else []),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"no callgrind summary in: {out.stderr[-500:]}")
    return int(found.group(1))


def callgrind(number: int, lean: bool) -> None:
    """Instructions per call, from the difference of two runs (start-up cancels out).

    Instruction counts do not depend on the machine's load, so before/after
    deltas of a few hundred instructions are visible where timings swing.
    """
    where = "lean server, real sockets" if lean else "network stubbed out"
    print(f"callgrind, instructions per call ({number} - {number // 5} calls):")
    for name in ("sdk", "raw"):
        many, few = instructions(name, number, lean), instructions(name, number // 5, lean)
        per_call = (many - few) / (number - number // 5)
        print(f"  {where}, {name:<4} {per_call:10,.0f} instructions per call")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the stubbed make_call")
    parser.add_argument(
        "--callgrind", action="store_true", help="count instructions per call (valgrind)"
    )
    parser.add_argument(
        "--lean", action="store_true", help="with --callgrind: real sockets to the lean server"
    )
    parser.add_argument("--only", choices=("sdk", "raw"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:
        asyncio.run(run_only(args.only, args.number, args.lean))
        return 0
    if args.callgrind:
        callgrind(args.number, args.lean)
        return 0
    asyncio.run(stubbed(args.number // 10, args.profile))
    asyncio.run(main_async(args.number))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
