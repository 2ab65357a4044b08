"""Load: 5,000 concurrent make_calls through a pool capped at 100 connections.

All must succeed (each waits its turn for a pooled connection; none fails for
lack of file descriptors), the pool cap must hold while they run, and closing
the client must give every socket back with no "unclosed" warning.  Both
ends live in this process, so each pooled connection costs two descriptors.
"""

from __future__ import annotations

import asyncio
import gc
import time
import warnings

from voice_async import Call, Timeout
from voice_async.testing import Emulator

from .conftest import CALL, client_for, open_fds

CALLS = 5_000
POOL = 100
SLACK = 20  # descriptors the loop, the sampler or the listener may add


class FdSampler:
    """Tracks the peak descriptor count while the load runs."""

    def __init__(self) -> None:
        self.peak = open_fds()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, open_fds())
            await asyncio.sleep(0.005)

    def __enter__(self) -> FdSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def test_five_thousand_concurrent_calls(emu: Emulator) -> None:
    gc.collect()
    baseline = open_fds()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # The library's default timeouts: waiting for a pooled connection
        # counts against ``connect`` (10 s), which this load must not exhaust.
        client = client_for(emu, max_connections=POOL, timeout=Timeout())
        started = time.monotonic()
        with FdSampler() as fds:
            async with client:
                results = await asyncio.gather(
                    *(client.make_call(**CALL) for _ in range(CALLS)), return_exceptions=True
                )
        elapsed = time.monotonic() - started
        del client
        gc.collect()
        await asyncio.sleep(0.05)  # let the server notice the closed connections
    failures = [r for r in results if not isinstance(r, Call)]
    assert failures == [], f"{len(failures)} failed, e.g. {failures[:3]!r}"
    ids = {r.session_id for r in results if isinstance(r, Call)}
    assert len(ids) == CALLS == emu.stats.calls_placed
    assert fds.peak - baseline <= 2 * POOL + SLACK, f"pool cap broken: peak {fds.peak}"
    assert fds.peak - baseline >= POOL, "the load never filled the pool: it tested nothing"
    assert open_fds() <= baseline + SLACK // 2, "sockets left open after aclose()"
    assert [str(w.message) for w in caught] == []
    assert elapsed < 60
