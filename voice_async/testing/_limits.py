"""Tenant limits: the emulator can say no like a real tenant (``Emulator(rate_limit=...)``).

* ``rate_limit`` (calls/s): make-call requests are admitted per fixed
  one-second window (``time.monotonic()`` seconds); past the limit the answer
  is ``429 rate_limited`` with ``Retry-After`` (whole seconds, rounded up) and
  ``retry-after-ms`` (exact) pointing at the next window.
* ``max_active_calls``: while that many placed calls are queued, ringing or
  in progress, make-call answers ``429 concurrency_limit`` with
  ``Retry-After: 1`` (the server cannot know when a call will end).
* ``call_duration=(low, high)`` seconds: each placed call lasts a duration
  drawn uniformly from that range (its events spread evenly over it),
  instead of ``event_interval`` per event.

Limits apply to requests that passed auth and validation, replays included
(a real API limits at its edge).  ``accepted_per_second`` counts the calls
actually placed per window, so tests can check a client's pacing.  With the
defaults (all ``None``) nothing changes.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ._errors import ApiError

_ACTIVE = frozenset({"queued", "ringing", "in_progress"})


def _positive(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{name} must be > 0 or None")


@dataclass
class TenantLimits:
    rate_limit: float | None = None
    max_active_calls: int | None = None
    call_duration: tuple[float, float] | None = None
    #: Calls placed per ``int(time.monotonic())`` second.
    accepted_per_second: Counter[int] = field(default_factory=Counter)
    #: 429 answers given, per ``error.type`` (``rate_limited``, ``concurrency_limit``).
    rejected: Counter[str] = field(default_factory=Counter)
    _window: int = -1
    _admitted: int = 0
    _active: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        _positive("rate_limit", self.rate_limit)
        _positive("max_active_calls", self.max_active_calls)
        if self.call_duration is not None:
            low, high = self.call_duration
            if not 0 <= low <= high:
                raise ValueError("call_duration must be (low, high) with 0 <= low <= high")

    @property
    def max_accepted_per_second(self) -> int:
        return max(self.accepted_per_second.values(), default=0)

    @property
    def active_calls(self) -> int:
        self._active = [s for s in self._active if s["status"] in _ACTIVE]
        return len(self._active)

    def admit(self) -> None:
        """Raise ``429`` if this make-call request is over a limit."""
        now = time.monotonic()
        if self.rate_limit is not None:
            window = int(now)
            if window != self._window:
                self._window, self._admitted = window, 0
            if self._admitted >= self.rate_limit:
                wait = window + 1 - now
                self._reject("rate_limited", f"over {self.rate_limit:g} calls/s", wait)
            self._admitted += 1
        if self.max_active_calls is not None and self.active_calls >= self.max_active_calls:
            self._reject("concurrency_limit", f"{self.max_active_calls} calls are active", 1.0)

    def _reject(self, type_: str, message: str, wait: float) -> None:
        self.rejected[type_] += 1
        headers = {
            "Retry-After": str(max(1, math.ceil(wait))),
            "retry-after-ms": str(max(1, round(wait * 1000))),
        }
        raise ApiError(429, f"too many calls: {message}", type=type_, headers=headers)

    def placed(self, session: dict[str, Any]) -> None:
        self.accepted_per_second[int(time.monotonic())] += 1
        if self.max_active_calls is not None:
            self._active.append(session)

    def step_interval(self, event_interval: float, rng: random.Random, steps: int) -> float:
        """Seconds between a placed call's events (``steps`` of them, then the end)."""
        if self.call_duration is None:
            return event_interval
        return rng.uniform(*self.call_duration) / (steps + 1)
