"""pytest plugin (entry point ``pytest11: voice_async``): emulator fixtures.

Fixtures (function scope):

* ``voice_emulator`` / ``emulator`` - a running :class:`~voice_async.testing.Emulator`.
  Configure it per test with ``@pytest.mark.voice_emulator(sessions=100, seed=1)``
  (any ``Emulator`` keyword argument).
* ``voice_client`` / ``client`` - an ``AsyncVoiceClient`` pointed at that emulator
  with its keys, closed after the test.

Importing this module is cheap on purpose: pytest imports it in every run of
every project that has ``voice_async`` installed, so aiohttp, the emulator and
the client are imported inside the fixtures only. The fixtures are
``pytest_asyncio`` fixtures when pytest-asyncio is installed, so they work in
its strict mode too.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

import pytest

_F = TypeVar("_F", bound=Callable[..., Any])
_fixture: Callable[..., Any]
try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - depends on the environment
    _fixture = pytest.fixture
else:
    _fixture = pytest_asyncio.fixture


def _async_fixture(func: _F) -> _F:
    return cast(_F, _fixture(func))

MARKER = "voice_emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**kwargs): keyword arguments for the voice_emulator fixture's Emulator",
    )


def _emulator_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        kwargs.update(marker.kwargs)  # the closest marker wins
    return kwargs


@_async_fixture
async def voice_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A running emulator on a free loopback port."""
    from voice_async.testing import Emulator

    async with Emulator(**_emulator_kwargs(request)) as emu:
        yield emu


@_async_fixture
async def emulator(voice_emulator: Any) -> Any:
    """Alias of ``voice_emulator``."""
    return voice_emulator


@_async_fixture
async def voice_client(voice_emulator: Any) -> AsyncIterator[Any]:
    """An ``AsyncVoiceClient`` talking to ``voice_emulator``."""
    client_class = importlib.import_module("voice_async").AsyncVoiceClient
    async with client_class(
        api_key=voice_emulator.api_key,
        admin_key=voice_emulator.admin_key,
        base_url=voice_emulator.base_url,
    ) as client:
        yield client


@_async_fixture
async def client(voice_client: Any) -> Any:
    """Alias of ``voice_client``."""
    return voice_client
