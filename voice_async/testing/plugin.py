"""pytest plugin (entry point ``pytest11: voice_async``): emulator fixtures.

Fixtures (function scope), named with a ``voice_`` prefix so they never shadow
pytest-django's, pytest-flask's or a project's own ``client``/``emulator``:

* ``voice_emulator`` - a running :class:`~voice_async.testing.Emulator` on a
  free loopback port. Configure it per test, class or module with
  ``@pytest.mark.voice_emulator(sessions=100, seed=1)`` (any ``Emulator``
  keyword argument; the marker closest to the test wins per keyword).
* ``voice_client`` - an ``AsyncVoiceClient`` pointed at that emulator with its
  keys, closed after the test.

They are pytest-asyncio fixtures, so they work in its ``strict`` mode (mark
tests ``@pytest.mark.asyncio``) and in ``auto`` mode alike, and they follow
the project's own loop-scope settings instead of imposing one.

Importing this module is cheap on purpose: pytest imports it in every run of
every project that has ``voice_async`` installed, so aiohttp, cattrs, the
emulator and the client are imported inside the fixtures only (a test checks
this in a subprocess).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

MARKER = "voice_emulator"
FIXTURES = ("voice_emulator", "voice_client")
MISSING_PYTEST_ASYNCIO = (
    "the {name} fixture of voice_async needs pytest-asyncio: "
    "pip install pytest-asyncio (or pip install 'voice-async[test]')"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**kwargs): keyword arguments for the voice_emulator fixture's Emulator",
    )


def _emulator_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        kwargs.update(marker.kwargs)  # iter_markers yields the closest first
    return kwargs


async def _voice_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A running emulator on a free loopback port."""
    emulator_class = importlib.import_module("voice_async.testing").Emulator
    async with emulator_class(**_emulator_kwargs(request)) as emu:
        yield emu


async def _voice_client(voice_emulator: Any) -> AsyncIterator[Any]:
    """An ``AsyncVoiceClient`` talking to ``voice_emulator``."""
    client_class = importlib.import_module("voice_async").AsyncVoiceClient
    async with client_class(
        api_key=voice_emulator.api_key,
        admin_key=voice_emulator.admin_key,
        base_url=voice_emulator.base_url,
    ) as client:
        yield client


def _needs_pytest_asyncio(name: str) -> Callable[..., Any]:
    """A stand-in fixture that fails with one clear line instead of pytest's
    generic "async fixture without a plugin" error (or a never-awaited coroutine)."""

    def fixture() -> None:
        pytest.fail(MISSING_PYTEST_ASYNCIO.format(name=name), pytrace=False)

    fixture.__name__ = name
    return fixture


def _define() -> tuple[Any, Any]:
    try:
        import pytest_asyncio  # loaded by pytest anyway when installed; imports no aiohttp
    except ImportError:
        return tuple(  # type: ignore[return-value]
            pytest.fixture(name=name)(_needs_pytest_asyncio(name)) for name in FIXTURES
        )
    return (
        pytest_asyncio.fixture(name="voice_emulator")(_voice_emulator),
        pytest_asyncio.fixture(name="voice_client")(_voice_client),
    )


voice_emulator, voice_client = _define()
