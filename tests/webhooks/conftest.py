"""Fixtures for the webhook tests: real aiohttp servers on loopback.

``emulator`` (StateSet's side) comes from the package's pytest plugin;
``upstream`` is a recording server standing in for StateSet when a test
needs to see exactly what the handler sent, or needs StateSet to misbehave.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Run apps on loopback; yield a function returning the app's base URL."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@attrs.define
class Seen:
    path: str
    headers: CIMultiDict[str]
    body: bytes


@attrs.define
class Upstream:
    """What it received, and what it answers (TwiML by default)."""

    base_url: str = ""
    seen: list[Seen] = attrs.Factory(list)
    status: int = 200
    body: str = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    headers: dict[str, str] = attrs.Factory(dict)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(request.path, CIMultiDict(request.headers), await request.read()))
        return web.Response(
            status=self.status, text=self.body, content_type="text/xml", headers=self.headers
        )


@pytest.fixture
async def upstream(serve: Serve) -> Upstream:
    recorder = Upstream()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    recorder.base_url = await serve(app)
    return recorder
