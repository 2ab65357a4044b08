"""RedisRateLimiter: several processes, one rate; one 429, everyone pauses."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from voice_async import InvalidRequestError
from voice_async.contrib import RedisRateLimiter

from ._procs import RedisServer

HAMMER = Path(__file__).with_name("_hammer.py")


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


async def hammer(url: str, name: str, rate: float, burst: float, seconds: float) -> list[float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HAMMER),
        url,
        name,
        str(rate),
        str(burst),
        str(seconds),
        "16",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return [float(line) for line in out.decode().split()]


async def test_three_processes_together_stay_within_the_rate(redis_server: RedisServer) -> None:
    rate, burst, seconds = 100.0, 10.0, 4.0
    runs = await asyncio.gather(
        *(hammer(redis_server.url, "shared", rate, burst, seconds) for _ in range(3))
    )
    grants = sorted(t for run in runs for t in run)
    assert all(len(run) > 20 for run in runs)  # every process got a share
    per_second = Counter(int(t) for t in grants)
    # Whole seconds inside the run (the first and last are partial).
    full = sorted(per_second)[1:-1]
    assert full, per_second
    # Token bucket bound: burst + rate per second; grants are stamped when the
    # caller wakes, so a loaded machine may shift a few across a boundary.
    assert max(per_second[s] for s in full) <= rate + burst + 5, per_second
    # ... and the limiter is not simply slow: the rate is used.
    assert min(per_second[s] for s in full) >= 0.8 * rate, per_second
    span = grants[-1] - grants[0]
    assert len(grants) <= burst + rate * span + 5


async def test_one_429_pauses_every_worker_and_cuts_the_rate(
    redis: Redis, redis_server: RedisServer
) -> None:
    first = RedisRateLimiter(redis, "campaign-x", rate=50, decrease=0.5)
    other_redis = Redis.from_url(redis_server.url)  # another connection, as another worker
    try:
        second = RedisRateLimiter(other_redis, "campaign-x", rate=50)
        await second.acquire()
        await first.throttled(retry_after=1.5)
        state = await second.state()
        assert state.factor == pytest.approx(0.5, abs=0.02) and state.paused_for > 1.3
        started = time.monotonic()
        await second.acquire()
        assert time.monotonic() - started >= 1.3
        await first.throttled(retry_after=None)  # default pause 1 s; cuts again
        assert (await first.state()).factor < 0.5
    finally:
        await other_redis.aclose()


async def test_the_rate_recovers_with_time(redis: Redis) -> None:
    limiter = RedisRateLimiter(redis, "recovering", rate=20, recovery=0.5, pause=0.1, decrease=0.5)
    await limiter.throttled(retry_after=0)
    low = (await limiter.state()).factor
    await asyncio.sleep(0.4)
    assert (await limiter.state()).factor >= low + 0.15
    await asyncio.sleep(1.2)
    assert (await limiter.state()).factor == 1.0


async def test_a_sleeper_rechecks_a_pause_that_started_meanwhile(redis: Redis) -> None:
    slow = RedisRateLimiter(redis, "sleepers", rate=2)  # the 2nd slot is 0.5 s away
    await slow.acquire()
    waiter = asyncio.ensure_future(slow.acquire())
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await slow.throttled(retry_after=1.0)
    await waiter
    assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rate": 0}, "rate"),
        ({"rate": float("inf")}, "rate"),
        ({"rate": 10, "burst": 11}, "burst"),
        ({"rate": 10, "burst": 0.5}, "burst"),
        ({"rate": 10, "min_factor": 0}, "min_factor"),
        ({"rate": 10, "decrease": 1.5}, "decrease"),
    ],
)
def test_bad_settings_fail_before_anything_is_sent(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidRequestError, match=field):
        RedisRateLimiter(Redis(), "x", **kwargs)  # type: ignore[arg-type]
