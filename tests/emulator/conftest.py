"""Fixtures for the emulator's own end-to-end tests (raw aiohttp, not the SDK)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from voice_async.testing import Emulator


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=60, seed=7) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield session
