"""Cross-loop close (issue 11.8): ``aclose()`` from a loop that did not open the pool.

The pool's sockets belong to the loop that opened them.  ``aclose()`` from any
other loop either closes them for real (the server sees every connection
go) or raises :class:`ClientClosedError`; it never returns while a socket
stays open, and never lets asyncio's "attached to a different loop"
``RuntimeError`` escape.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Iterator

import pytest

from voice_async import AsyncVoiceClient, ClientClosedError, RuntimeConfig

from ._http_servers import HostileServer, json_reply
from .conftest import hostile_client

CONFIG = {"tenant_id": "tn_1", "version": 1}


@pytest.fixture
def owner() -> Iterator[asyncio.AbstractEventLoop]:
    """A second event loop, the one that will open the client's pool."""
    loop = asyncio.new_event_loop()
    yield loop
    if not loop.is_closed():
        loop.close()


async def _use(client: AsyncVoiceClient) -> None:
    assert isinstance(await client.admin.get_runtime_config("tn_1"), RuntimeConfig)


def _client_of(hostile: HostileServer) -> AsyncVoiceClient:
    """A client of ``hostile``, which answers the runtime config :func:`_use` asks for.

    Not a fixture: closing it (on the right loop or the wrong one) and, once,
    dropping the last reference to it are what the tests check.
    """
    hostile.handler = json_reply(CONFIG)
    return hostile_client(hostile)


async def _used_on(owner: asyncio.AbstractEventLoop, hostile: HostileServer) -> AsyncVoiceClient:
    """A :func:`_client_of` ``hostile`` whose pool ``owner`` opened; ``owner`` now idles."""
    client = _client_of(hostile)
    await asyncio.to_thread(owner.run_until_complete, _use(client))
    return client


async def test_close_while_the_owner_loop_runs_in_another_thread(
    hostile: HostileServer, owner: asyncio.AbstractEventLoop
) -> None:
    client = _client_of(hostile)
    thread = threading.Thread(target=owner.run_forever)
    thread.start()
    try:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_use(client), owner))
        assert hostile.open_connections == 1  # kept alive in the pool
        await asyncio.wait_for(client.aclose(), 10)
        assert client.is_closed
        assert await hostile.wait_connections(0), "aclose() returned with a socket open"
    finally:
        owner.call_soon_threadsafe(owner.stop)
        await asyncio.to_thread(thread.join, 10)


async def test_close_while_the_owner_loop_is_idle(
    hostile: HostileServer, owner: asyncio.AbstractEventLoop
) -> None:
    client = await _used_on(owner, hostile)
    assert hostile.open_connections == 1
    await asyncio.wait_for(client.aclose(), 10)
    assert await hostile.wait_connections(0), "aclose() returned with a socket open"
    await client.aclose()  # idempotent


async def test_close_after_the_owner_loop_is_gone_raises(
    hostile: HostileServer, owner: asyncio.AbstractEventLoop
) -> None:
    """Nothing can release a closed loop's sockets: say so, every time, in a typed error."""
    client = await _used_on(owner, hostile)
    owner.close()
    for _ in range(2):
        with pytest.raises(ClientClosedError, match="loop that opened them is closed"):
            await asyncio.wait_for(client.aclose(), 10)
    assert client.is_closed
    # What is left is for the garbage collector, which warns about it: expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        del client
        gc.collect()


async def test_same_loop_close_is_unchanged(hostile: HostileServer) -> None:
    client = _client_of(hostile)
    await _use(client)
    await client.aclose()
    assert await hostile.wait_connections(0)
