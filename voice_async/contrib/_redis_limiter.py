"""One rate limit for every worker: a token bucket and a 429 backoff in Redis.

``RedisRateLimiter`` implements the campaigns' ``RateLimiter`` protocol
(``acquire`` / ``throttled`` / ``succeeded``) for any number of processes on
any number of machines that share one Redis.  Needs the ``redis`` package
(the ``[arq]`` extra brings it), not arq.

The bucket is kept as GCRA ("virtual scheduling"): one timestamp, ``next``,
the moment the next call may go.  ``acquire`` runs one Lua script, atomic in
Redis, that *reserves* a slot -- ``max(next, now - (burst - 1) * interval,
paused_until)`` -- moves ``next`` one interval on, and answers how long the
caller must sleep.  Callers then sleep locally: no polling, and the grants
of all processes together are at most ``burst`` plus ``rate`` per second of
wall time, exactly the token-bucket bound.  When several callers of one
process wait at once, one script call reserves a short run of consecutive
slots for them (a *lease*, at most 16 slots and 50 ms ahead), so a busy
worker pays a fraction of a round trip per call.  The
clock is Redis's ``TIME``, so workers on machines whose clocks disagree still
share one schedule.

Backoff is shared the same way.  ``throttled`` (a 429 seen by any worker) sets
``paused_until`` (``Retry-After``, or ``pause`` seconds without one): every
reservation lands after it, and a caller already sleeping on an older
reservation re-checks when it wakes.  It also cuts the rate to ``decrease``
(0.9) of what it was (at most once per pause, since a burst of 429s is one
signal; the pause itself absorbs the overload, so the cut can be mild, as in
the in-process ``AdaptiveRateLimiter``); the rate then recovers
linearly in time, ``recovery`` of the full rate per second -- additive
increase, multiplicative decrease -- so ``succeeded`` needs no round trip.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import InvalidRequestError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LimiterState", "RedisRateLimiter"]

KEY_PREFIX = "voice_async:limiter:"

# KEYS[1] the limiter hash.  ARGV: rate, burst, ttl, recovery.
# Returns {wait seconds, factor} as strings (Lua numbers would be truncated).
_COMMON = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'next', 'factor', 'throttled_at', 'paused_until')
local nxt = tonumber(h[1]) or 0
local low = tonumber(h[2]) or 1
local since = tonumber(h[3]) or now
local paused = tonumber(h[4]) or 0
local factor = math.min(1, low + math.max(0, now - since) * tonumber(ARGV[4]))
"""

# ARGV: rate, burst, ttl, recovery, n.  Reserves n consecutive slots; returns
# {first slot - now, interval, factor}.
_ACQUIRE = (
    _COMMON
    + """
local interval = 1 / (tonumber(ARGV[1]) * factor)
local slot = math.max(nxt, now - (tonumber(ARGV[2]) - 1) * interval, paused)
redis.call('HSET', KEYS[1], 'next', string.format('%.6f', slot + tonumber(ARGV[5]) * interval))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {string.format('%.6f', slot - now), string.format('%.9f', interval),
        string.format('%.6f', factor)}
"""
)

# ARGV: rate, burst, ttl, recovery, pause seconds, min factor, decrease.
_THROTTLE = (
    _COMMON
    + """
local pause = tonumber(ARGV[5])
if paused <= now then
  factor = math.max(tonumber(ARGV[6]), factor * tonumber(ARGV[7]))
  redis.call('HSET', KEYS[1], 'factor', string.format('%.6f', factor),
             'throttled_at', string.format('%.6f', now))
end
paused = math.max(paused, now + pause)
redis.call('HSET', KEYS[1], 'paused_until', string.format('%.6f', paused),
           'next', string.format('%.6f', math.max(nxt, paused)))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {string.format('%.6f', paused - now), string.format('%.6f', factor)}
"""
)

_STATE = (
    _COMMON
    + """
return {string.format('%.6f', math.max(0, paused - now)), string.format('%.6f', factor)}
"""
)

#: Slots reserved per round trip at most, and at most this far ahead: with
#: many callers waiting in one process, one script call serves several.
MAX_LEASE = 16
LEASE_SPAN = 0.05
#: A caller that slept longer than this re-checks for a pause begun meanwhile.
RECHECK_AFTER = 0.05


@attrs.frozen
class LimiterState:
    """What every worker currently shares: the pause left and the rate factor."""

    paused_for: float
    factor: float


class RedisRateLimiter:
    """A global token bucket plus a shared 429 backoff, one per ``name``.

    ``rate`` calls per second across all processes using the same ``name``
    on the same Redis; ``burst`` (1 to ``rate``, default 1) calls may go at
    once after an idle spell.  ``pause`` is the shared pause after a 429
    without ``Retry-After``; ``recovery`` the fraction of ``rate`` regained per
    second after a 429 cut it to ``decrease`` times its value; ``min_factor``
    the floor of those cuts.
    The state expires ``ttl`` seconds after the last call.
    """

    def __init__(
        self,
        redis: Redis,
        name: str,
        *,
        rate: float,
        burst: float = 1.0,
        pause: float = 1.0,
        recovery: float = 0.1,
        min_factor: float = 0.05,
        decrease: float = 0.9,
        ttl: int = 3600,
    ) -> None:
        _positive("rate", rate)
        if not 1 <= burst <= max(1.0, rate):
            raise InvalidRequestError("burst", "must be from 1 to rate (a second's worth)")
        _positive("pause", pause)
        _positive("recovery", recovery)
        if not 0 < min_factor <= 1:
            raise InvalidRequestError("min_factor", "must be in (0, 1]")
        if not 0 < decrease <= 1:
            raise InvalidRequestError("decrease", "must be in (0, 1]")
        if not name or not isinstance(name, str):
            raise InvalidRequestError("name", "must be a non-empty string")
        self._redis = redis
        self.key = KEY_PREFIX + name
        self.rate, self.burst, self.pause = float(rate), float(burst), float(pause)
        self._args = (self.rate, self.burst, int(ttl), float(recovery))
        self._cut = (float(min_factor), float(decrease))
        self._acquire = redis.register_script(_ACQUIRE)
        self._throttle = redis.register_script(_THROTTLE)
        self._state = redis.register_script(_STATE)
        self._leased: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._waiting = 0

    async def acquire(self) -> None:
        """Wait for this process's slot in the shared schedule.

        Callers of one process take slots in arrival order from a small local
        lease (consecutive slots reserved in one script call, at most
        ``LEASE_SPAN`` ahead), so a busy worker pays a fraction of a round
        trip per call.
        """
        loop = asyncio.get_running_loop()
        self._waiting += 1
        try:
            while True:
                async with self._lock:
                    at = self._next_leased(loop.time())
                    if at is None:
                        await self._lease(loop)
                        at = self._leased.popleft()
                wait = at - loop.time()
                if wait <= 0:
                    return
                await asyncio.sleep(wait)
                # A 429 may have paused everyone while this caller slept on an
                # older reservation: honour it (and reserve again after it).
                if wait < RECHECK_AFTER or (await self.state()).paused_for <= 0:
                    return
                self._leased.clear()
        finally:
            self._waiting -= 1

    def _next_leased(self, now: float) -> float | None:
        """The next leased slot, dropping stale ones (unused: their callers left)."""
        while self._leased:
            at = self._leased.popleft()
            if at >= now - LEASE_SPAN:
                return at
        return None

    async def _lease(self, loop: asyncio.AbstractEventLoop) -> None:
        span = max(1, int(self.rate * LEASE_SPAN))
        n = max(1, min(self._waiting, MAX_LEASE, span))
        first, interval, _ = await self._call(self._acquire, n)
        base = loop.time() + first
        self._leased.extend(base + i * interval for i in range(n))

    async def throttled(self, retry_after: float | None) -> None:
        """A 429: pause every worker and cut the shared rate (once per pause)."""
        pause = self.pause if retry_after is None else max(0.0, float(retry_after))
        self._leased.clear()  # they would fall inside the pause
        await self._call(self._throttle, pause, *self._cut)

    async def succeeded(self) -> None:
        """Nothing to send: the rate recovers with time (see the module docstring)."""

    async def state(self) -> LimiterState:
        paused_for, factor = await self._call(self._state)
        return LimiterState(paused_for=paused_for, factor=factor)

    async def reset(self) -> None:
        """Forget the schedule and any backoff (e.g. between benchmark runs)."""
        await self._redis.delete(self.key)

    async def _call(self, script: Any, *extra: float) -> tuple[float, ...]:
        reply = await script(keys=[self.key], args=[*self._args, *extra])
        return tuple(float(value) for value in reply)

    def __repr__(self) -> str:
        return f"<RedisRateLimiter {self.key!r} rate={self.rate:g}/s burst={self.burst:g}>"


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(name, "must be a number")
    if not math.isfinite(value) or value <= 0:
        raise InvalidRequestError(name, "must be a positive finite number")
