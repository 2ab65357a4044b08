"""Fixtures of the hostile suite: a misbehaving server and a client pointed at it.

Every case asserts three things where they apply: the *typed* error (never a
raw ``OverflowError``, ``MemoryError`` or ``aiohttp`` exception), a *time*
bound (generous: the machine is shared) and a *memory* bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from voice_async import AsyncVoiceClient, RetryPolicy, Runtime, Timeout

from .._outcome import outcome_within
from ._http_servers import HostileServer

API_KEY = "sk_live_hostile_0123456789abcdef"
ADMIN_KEY = "adm_live_hostile_fedcba9876543210"
SECRETS = (API_KEY, ADMIN_KEY)
CALL: dict[str, Any] = {
    "to": "+15555555678",
    "from_": "+15555551234",
    "agent_key": "support_primary",
}
CALL_BODY: dict[str, Any] = {
    "session_id": "vs_hostile_1",
    "status": "queued",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "created_at": "2026-11-25T15:30:00Z",
}
#: Any SDK call taking longer than this against a hostile server is a hang.
TIME_LIMIT = 20.0


async def no_wait(delay: float) -> None:
    """Retries happen at once: the suite counts requests, it does not time backoff."""


def hostile_client(server: HostileServer | str, **kwargs: Any) -> AsyncVoiceClient:
    """A client on ``server`` (or a base URL) with both keys set and no backoff waits."""
    options: dict[str, Any] = {
        "api_key": API_KEY,
        "admin_key": ADMIN_KEY,
        "base_url": server if isinstance(server, str) else server.base_url,
        "retry_policy": RetryPolicy(max_retries=2),
        "timeout": Timeout(total=15.0, connect=5.0),
        "runtime": Runtime(sleep=no_wait),
    }
    options.update(kwargs)
    return AsyncVoiceClient(**options)


async def outcome(awaitable: Awaitable[Any]) -> Any:
    """:func:`outcome_within` the suite's :data:`TIME_LIMIT`: the result or the SDK's error."""
    return await outcome_within(awaitable, TIME_LIMIT)


@pytest.fixture
async def hostile() -> AsyncIterator[HostileServer]:
    async with HostileServer() as server:
        yield server
