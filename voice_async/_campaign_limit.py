"""How fast a campaign dials: a token bucket that backs off on 429 and recovers.

:class:`AdaptiveBucket` is the sans-I/O core (every method takes ``now``), so
its arithmetic is tested without sleeping; :class:`AdaptiveRateLimiter` puts
it behind the :class:`RateLimiter` protocol with an ``asyncio.Lock`` so that
waiters are served first come, first served, one token each.

The rules (AIMD, like TCP congestion control, tuned for a tenant's limit):

* **Bucket.** ``rate`` tokens per second, at most ``burst`` saved up
  (default ``max(1, rate / 10)``: a tenth of a second's worth, never more than
  one second's).  Any one-second window therefore sees at most
  ``rate + burst`` calls.
* **429.** The whole campaign pauses for the server's ``Retry-After`` (or,
  without one, an exponential pause from 0.5 s to 8 s), and the current rate
  drops to ``decrease`` (0.9) times the lower of what it was and the rate
  calls were actually being accepted at (counting the pause the server asked
  for), so an unlimited campaign learns the tenant's rate from its 429s.  One
  decrease per congestion episode: the other in-flight calls that come back
  429 from the same window do not cut the rate again.
* **Recovery.** Each accepted call raises the current rate by ``increase``
  (0.1) calls/s, i.e. about 10 % per second, up to the configured ``rate``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from ._errors import InvalidRequestError

MIN_RATE = 0.5
MAX_PAUSE_WITHOUT_RETRY_AFTER = 8.0
FIRST_PAUSE_WITHOUT_RETRY_AFTER = 0.5
OBSERVATION_FLOOR = 0.1


@runtime_checkable
class RateLimiter(Protocol):
    """What a campaign asks of its rate limiter (one per campaign, shared by its rows).

    Implement it to share one limit between processes (e.g. a token bucket
    in Redis); :class:`AdaptiveRateLimiter` is the in-process default.
    """

    async def acquire(self) -> None:
        """Wait until one call may be sent."""

    async def throttled(self, retry_after: float | None) -> None:
        """A 429 was seen: slow the whole campaign."""

    async def succeeded(self) -> None:
        """A call was accepted: recover gradually."""


class AdaptiveBucket:
    """The limiter's state and arithmetic; no clock of its own (``now`` is passed)."""

    def __init__(
        self,
        rate: float | None,
        *,
        burst: float | None = None,
        decrease: float = 0.9,
        increase: float = 0.1,
        now: float = 0.0,
    ) -> None:
        if rate is not None and not rate > 0:
            raise InvalidRequestError("rate", f"must be > 0 calls/s or None, got {rate!r}")
        if burst is not None and (rate is None or not 1 <= burst <= max(1.0, rate)):
            raise InvalidRequestError("burst", "must be between 1 and rate (needs a rate)")
        if not 0 < decrease < 1 or not increase > 0:
            raise InvalidRequestError("decrease", "must be in (0, 1); increase must be > 0")
        #: The configured ceiling (``None``: no limit until the server asks for one).
        self.ceiling = rate
        #: The rate in force now (``None``: unlimited).
        self.rate = rate
        self._burst_setting = burst
        self.decrease, self.increase = decrease, increase
        self.tokens = self.burst
        self._last = now
        self.paused_until = 0.0
        self._episode_until = -1.0
        self._streak = 0
        self._accepted: deque[float] = deque()

    @property
    def burst(self) -> float:
        if self.rate is None:
            return 0.0
        if self._burst_setting is not None:
            return self._burst_setting
        return max(1.0, self.rate / 10)

    def _refill(self, now: float) -> None:
        if self.rate is not None and now > self._last:
            self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        self._last = max(self._last, now)

    def delay(self, now: float) -> float:
        """Seconds to wait before one call may go; ``0`` means take it now (see :meth:`take`)."""
        if now < self.paused_until:
            return self.paused_until - now
        if self.rate is None:
            return 0.0
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        if self.rate is not None:
            self.tokens -= 1

    def throttled(self, retry_after: float | None, now: float) -> None:
        if retry_after is None:
            pause = min(
                MAX_PAUSE_WITHOUT_RETRY_AFTER, FIRST_PAUSE_WITHOUT_RETRY_AFTER * 2**self._streak
            )
            self._streak += 1
        else:
            pause = max(0.0, retry_after)
        self.paused_until = max(self.paused_until, now + pause)
        if now < self._episode_until:
            return  # the same congestion episode: one decrease is enough
        observed = self._observed(now, pause)
        base = observed if self.rate is None else min(self.rate, observed)
        self.rate = max(MIN_RATE, base * self.decrease)
        self.tokens = min(self.tokens, 1.0)  # no burst right after a 429
        self._episode_until = self.paused_until + min(1.0, 1.0 / self.rate)

    def succeeded(self, now: float) -> None:
        self._streak = 0
        self._accepted.append(now)
        while self._accepted and self._accepted[0] < now - 1.0:
            self._accepted.popleft()
        if self.rate is not None and (self.ceiling is None or self.rate < self.ceiling):
            self._refill(now)
            raised = self.rate + self.increase
            self.rate = raised if self.ceiling is None else min(self.ceiling, raised)

    def _observed(self, now: float, pause: float) -> float:
        """The rate the server was letting calls through at, judged at a 429.

        The calls accepted during the last second, spread over the time they
        took *plus* the pause the server just imposed: a fixed-window limit
        of 30/s that accepted 30 calls in 50 ms and then asked for 950 ms of
        quiet reads as 30/s, not 600/s.
        """
        recent = [t for t in self._accepted if t >= now - 1.0]
        if not recent:
            return self.rate or MIN_RATE
        return len(recent) / max(now - recent[0] + pause, OBSERVATION_FLOOR)


class AdaptiveRateLimiter:
    """The default :class:`RateLimiter`: an :class:`AdaptiveBucket` for one process.

    ``rate`` of ``None`` sends as fast as ``concurrency`` allows until the
    server answers 429, then finds the tenant's rate the AIMD way.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        burst: float | None = None,
        decrease: float = 0.9,
        increase: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self.bucket = AdaptiveBucket(
            rate, burst=burst, decrease=decrease, increase=increase, now=clock()
        )
        self._lock = asyncio.Lock()

    @property
    def rate(self) -> float | None:
        """The rate in force now (calls/s), ``None`` when unlimited."""
        return self.bucket.rate

    async def acquire(self) -> None:
        bucket = self.bucket
        if bucket.rate is None and not self._lock.locked() and bucket.delay(self._clock()) == 0:
            return  # unlimited and not paused: no queueing at all
        async with self._lock:
            while (delay := bucket.delay(self._clock())) > 0:
                await self._sleep(delay)
            bucket.take(self._clock())

    async def throttled(self, retry_after: float | None) -> None:
        self.bucket.throttled(retry_after, self._clock())

    async def succeeded(self) -> None:
        self.bucket.succeeded(self._clock())

    def __repr__(self) -> str:
        return f"AdaptiveRateLimiter(rate={self.bucket.rate!r}, ceiling={self.bucket.ceiling!r})"
