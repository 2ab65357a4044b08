"""Shared test helpers.

The ``emulator``/``client`` fixtures come from the package's own pytest plugin
(``voice_async.testing.plugin``), exactly as users get them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from voice_async import AsyncVoiceClient, Runtime

API_KEY = "sk_test_0123456789abcdef"
ADMIN_KEY = "adm_test_fedcba9876543210"
BASE = "http://127.0.0.1:9"  # never contacted: aioresponses intercepts everything


class FakeSleep:
    """Records requested delays instead of waiting them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def mocked_client(fake_sleep: FakeSleep) -> AsyncIterator[AsyncVoiceClient]:
    """A client for aioresponses-driven tests: fake sleep, keys set, loopback URL."""
    runtime = Runtime(sleep=fake_sleep)
    async with AsyncVoiceClient(
        api_key=API_KEY, admin_key=ADMIN_KEY, base_url=BASE, runtime=runtime
    ) as client:
        yield client
