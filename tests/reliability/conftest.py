"""Fixtures shared by the reliability suites: the emulator, fast clients, fd counts."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from voice_async import AsyncVoiceClient, RetryPolicy, Timeout
from voice_async.testing import Emulator

from ._servers import RawServer, ScriptedServer

CALL: dict[str, Any] = {
    "to": "+15555555678",
    "from_": "+15555551234",
    "agent_key": "support_primary",
}
#: Retries as the default policy does them, only a thousand times faster.
FAST_RETRY = RetryPolicy(max_retries=3, initial_backoff=0.001, max_backoff=0.01)


def open_fds() -> int:
    """File descriptors open in this process right now (Linux)."""
    return len(os.listdir("/proc/self/fd"))


def client_for(emu: Emulator, **kwargs: Any) -> AsyncVoiceClient:
    """A client on ``emu`` with both keys and fast retries (override anything)."""
    options: dict[str, Any] = {
        "api_key": emu.api_key,
        "admin_key": emu.admin_key,
        "base_url": emu.base_url,
        "retry_policy": FAST_RETRY,
        "timeout": Timeout(total=5.0, connect=5.0),
    }
    options.update(kwargs)
    return AsyncVoiceClient(**options)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """An emulator whose placed calls stay quiet (their simulated lifecycle sleeps).

    ``event_interval=60`` keeps thousands of placed calls from each running a
    conversation script during the test: the suites measure the client, not
    the simulation.  Hangs last at most 10 s even if a client forgets them.
    """
    async with Emulator(seed=11, event_interval=60.0) as emulator:
        emulator.faults.hang_seconds = 10.0
        yield emulator


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as server:
        yield server


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    async with RawServer() as server:
        yield server
