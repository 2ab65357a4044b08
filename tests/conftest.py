"""Shared test helpers.

``voice_emulator``/``voice_client`` come from the package's own pytest plugin
(``voice_async.testing.plugin``), exactly as users get them; ``emulator`` and
``client`` are this project's short aliases (the plugin does not define them,
so as not to collide with other plugins' or users' fixtures).
"""

from __future__ import annotations

import asyncio
import inspect
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import aioresponses.core
import pytest

from voice_async import AsyncVoiceClient, Runtime

# A shell starts background jobs (`.ci/run &`, nohup) with SIGINT ignored, and
# an ignored signal stays ignored across exec: the CLI subprocesses that the
# Ctrl-C tests interrupt would never see it.  With a handler installed here,
# exec resets SIGINT to its default in every child, as in a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

API_KEY = "sk_test_0123456789abcdef"
ADMIN_KEY = "adm_test_fedcba9876543210"
BASE = "http://127.0.0.1:9"  # never contacted: aioresponses intercepts everything


class _NoUpload:
    """The request writer of a mocked response: nothing left to upload."""

    output_size = 0


def _let_aioresponses_build_aiohttp_314_responses() -> None:
    """aiohttp 3.14 added a required ``stream_writer`` argument to
    ``ClientResponse``; aioresponses 0.7.9 (the newest release) does not pass
    it (pnuckowski/aioresponses#288 fixes it, unreleased). aiohttp only reads
    ``stream_writer.output_size`` from it, so the response class aioresponses
    builds gets a finished writer by default. A no-op on aiohttp < 3.14 and on
    an aioresponses that passes the argument itself.
    """
    parameters = inspect.signature(aiohttp.ClientResponse.__init__).parameters
    if "stream_writer" not in parameters:
        return

    class ClientResponse(aiohttp.ClientResponse):
        def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", _NoUpload())
            super().__init__(method, url, **kwargs)

    aioresponses.core.ClientResponse = ClientResponse  # type: ignore[misc]


_let_aioresponses_build_aiohttp_314_responses()


@pytest.fixture
def emulator(voice_emulator: Any) -> Any:
    """This project's alias of the plugin's ``voice_emulator``."""
    return voice_emulator


@pytest.fixture
def client(voice_client: Any) -> Any:
    """This project's alias of the plugin's ``voice_client``."""
    return voice_client


class FakeSleep:
    """A ``Runtime.sleep`` that records each requested delay and waits none of it.

    It still yields to the event loop once, as a real sleep does, so a retry
    loop running against a real server cannot starve that server's tasks.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[..., AsyncVoiceClient]]:
    """``client_factory(**options)``: an :class:`AsyncVoiceClient`, closed when the test ends.

    For tests that build several clients (one per server or runtime): each is
    closed at teardown even when an assertion failed midway, so no test leaks
    a connection pool into the next one's unclosed-resource warnings.
    """
    clients: list[AsyncVoiceClient] = []

    def make(**options: Any) -> AsyncVoiceClient:
        clients.append(AsyncVoiceClient(**options))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def mocked_client(fake_sleep: FakeSleep) -> AsyncIterator[AsyncVoiceClient]:
    """A client for aioresponses-driven tests: fake sleep, keys set, loopback URL."""
    runtime = Runtime(sleep=fake_sleep)
    async with AsyncVoiceClient(
        api_key=API_KEY, admin_key=ADMIN_KEY, base_url=BASE, runtime=runtime
    ) as client:
        yield client
