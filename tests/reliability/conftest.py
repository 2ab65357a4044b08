"""Fixtures shared by the reliability suites: the emulator, fast clients, fd counts."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from voice_async import AsyncVoiceClient, RetryPolicy, Timeout
from voice_async.testing import Emulator

from .._outcome import outcome_within
from ._servers import RawServer, ScriptedServer

CALL: dict[str, Any] = {
    "to": "+15555555678",
    "from_": "+15555551234",
    "agent_key": "support_primary",
}
#: Retries as the default policy does them, only a thousand times faster.
FAST_RETRY = RetryPolicy(max_retries=3, initial_backoff=0.001, max_backoff=0.01)
HANG_LIMIT = 10.0  # seconds; any SDK call taking longer counts as a hang
TEST_API_KEY = "sk_test_r3_0123456789"
TEST_ADMIN_KEY = "adm_test_r3_0123456789"


def open_fds() -> int:
    """File descriptors open in this process right now (Linux)."""
    return len(os.listdir("/proc/self/fd"))


def client_on(base_url: str, **kwargs: Any) -> AsyncVoiceClient:
    """A client with throwaway keys and fast retries (override anything)."""
    options: dict[str, Any] = {
        "api_key": TEST_API_KEY,
        "admin_key": TEST_ADMIN_KEY,
        "base_url": base_url,
        "retry_policy": FAST_RETRY,
        "timeout": Timeout(total=5.0, connect=5.0),
    }
    options.update(kwargs)
    return AsyncVoiceClient(**options)


def client_for(emu: Emulator, **kwargs: Any) -> AsyncVoiceClient:
    """:func:`client_on` the emulator, with its keys."""
    return client_on(emu.base_url, **{"api_key": emu.api_key, "admin_key": emu.admin_key, **kwargs})


async def outcome(awaitable: Awaitable[Any]) -> Any:
    """:func:`outcome_within` the suite's :data:`HANG_LIMIT`: the result or the SDK's error."""
    return await outcome_within(awaitable, HANG_LIMIT)


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
