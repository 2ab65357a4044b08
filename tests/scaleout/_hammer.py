"""A process that takes slots from a RedisRateLimiter as fast as it can.

``python _hammer.py REDIS_URL NAME RATE BURST SECONDS TASKS`` prints one wall
clock timestamp per grant; the test runs several at once and counts them.
"""

from __future__ import annotations

import asyncio
import sys
import time

from redis.asyncio import Redis

from voice_async.contrib import RedisRateLimiter


async def main(url: str, name: str, rate: float, burst: float, seconds: float, tasks: int) -> None:
    redis = Redis.from_url(url)
    limiter = RedisRateLimiter(redis, name, rate=rate, burst=burst)
    grants: list[float] = []
    stop = time.monotonic() + seconds

    async def hammer() -> None:
        while time.monotonic() < stop:
            await limiter.acquire()
            grants.append(time.time())

    await asyncio.gather(*(hammer() for _ in range(tasks)))
    await redis.aclose()
    print("\n".join(f"{t:.6f}" for t in grants))


if __name__ == "__main__":
    url, name, rate, burst, seconds, tasks = sys.argv[1:]
    asyncio.run(main(url, name, float(rate), float(burst), float(seconds), int(tasks)))
