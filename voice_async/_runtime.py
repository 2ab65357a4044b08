"""The client's one seam for time and randomness.

Retries and reconnects wait (``sleep``), draw jitter (``random``) and read a
clock (``monotonic``).  Routing all three through one small value lets tests
and advanced users (simulations, deterministic replays) swap them without
reaching into the transport's or the event stream's internals::

    client = AsyncVoiceClient(runtime=Runtime(sleep=fake_sleep, random=Random(7)))
"""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import Awaitable, Callable

import attrs

Sleep = Callable[[float], Awaitable[None]]


@attrs.frozen
class Runtime:
    """How the client waits, draws jitter and reads the clock.

    ``sleep`` is awaited for every backoff delay (HTTP retries and WebSocket
    reconnects), ``random`` draws the full-jitter backoff, and ``monotonic``
    is the clock used for health checks of a live connection.
    """

    sleep: Sleep = asyncio.sleep
    random: _random.Random = attrs.field(factory=_random.Random)
    monotonic: Callable[[], float] = time.monotonic
