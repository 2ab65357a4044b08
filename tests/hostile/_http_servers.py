"""Deliberately hostile HTTP servers for the hostile suite (aiohttp, real loopback).

Unlike the emulator, which speaks the contract, these misbehave on purpose:
endless bodies, bodies far larger than any answer, numbers and dates at the
edge of what Python can represent, the caller's own key echoed back in every
header, success statuses without a body.  Each behaviour is a *handler*
factory; a :class:`HostileServer` runs whichever handler a test sets and
counts what it saw (requests, open connections, clients that hung up).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from .._loopback import LoopbackApp

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CHUNK = b"x" * 65_536
HUNG_UP = web.AppKey("hung_up", asyncio.Event)


class HostileServer(LoopbackApp):
    """An aiohttp server on ``127.0.0.1`` that answers every request with ``handler``.

    ``requests`` counts requests (so a test can prove a call was not
    retried); ``open_connections`` is what the server still holds open;
    ``hung_up`` is set when a client dropped a connection mid-answer.
    """

    shutdown_timeout = 0.5

    def __init__(self) -> None:
        super().__init__()
        self.handler: Handler = json_reply({})
        self.requests = 0
        #: Every request's headers, repeated names kept.
        self.request_headers: list[CIMultiDict[str]] = []
        self.hung_up = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024**2)
        app[HUNG_UP] = self.hung_up
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    @property
    def open_connections(self) -> int:
        assert self._runner is not None and self._runner.server is not None
        return len(self._runner.server.connections)

    async def wait_connections(self, count: int, within: float = 5.0) -> bool:
        """Whether the server's open connections drop to ``count`` within ``within`` s."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        while self.open_connections > count:
            if loop.time() > until:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.request_headers.append(request.headers.copy())
        await request.read()
        return await self.handler(request)


# -- handlers ------------------------------------------------------------------------


def json_reply(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Handler:
    """A JSON answer with a ``Content-Length``."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return raw_reply(body, status=status, headers=headers)


def raw_reply(
    body: bytes,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        all_headers = {"Content-Type": content_type, **(headers or {})}
        return web.Response(status=status, body=body, headers=all_headers)

    return handler


def chunked_reply(body: bytes, status: int = 200) -> Handler:
    """The same bytes with chunked encoding: no ``Content-Length`` to refuse up front."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, len(body), len(CHUNK)):
            await resp.write(body[start : start + len(CHUNK)])
        await resp.write_eof()
        return resp

    return handler


def endless_body(status: int = 200, headers: Mapping[str, str] | None = None) -> Handler:
    """A chunked body that never ends: only the client hanging up stops it."""

    async def handler(request: web.Request) -> web.StreamResponse:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        resp = web.StreamResponse(status=status, headers=all_headers)
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'{"session_id": "')
        try:
            while True:
                await resp.write(CHUNK)
        except ConnectionError:  # the client hung up: what it should do
            request.app[HUNG_UP].set()
        return resp

    return handler


def no_content(status: int = 204, headers: Mapping[str, str] | None = None) -> Handler:
    """A success status and no body at all."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers=headers)

    return handler


def sized_json(size: int, template: Mapping[str, Any]) -> bytes:
    """``template`` as JSON with a ``metadata.blob`` string making it ``size`` bytes or more."""
    base = json.dumps({**template, "metadata": {"blob": ""}}).encode()
    payload = {**template, "metadata": {"blob": "x" * max(0, size - len(base))}}
    return json.dumps(payload).encode()


class RssSampler:
    """The peak resident memory of this process while the ``async with`` block runs.

    Sampled every few milliseconds from ``/proc/self/statm`` (Linux), so the
    figure is the real high-water mark, not the end state after collection.
    """

    def __init__(self, every: float = 0.005) -> None:
        self.every = every
        self.baseline = 0
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize()

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.rss())
            await asyncio.sleep(self.every)

    async def __aenter__(self) -> RssSampler:
        self.baseline = self.peak = self.rss()
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.peak = max(self.peak, self.rss())


def echo_credentials(status: int = 401, body_status: bool = True) -> Handler:
    """Echo the caller's credentials in every place a response has room for.

    ``x-request-id``, an ordinary header, a header *name*, a repeated
    ``Set-Cookie``, ``Location``, and the error body's ``type``, ``message``
    and ``param``; the non-JSON body of a 2xx when ``body_status`` is False.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ")
        key = auth or request.headers.get("x-admin-key", "")
        headers = [
            ("x-request-id", f"req_{key}"),
            ("X-Debug-Key", key),
            (f"X-{key}", "name"),
            ("Set-Cookie", f"a={key}"),
            ("Set-Cookie", f"b={key}"),
            ("Location", f"https://evil.example/?key={key}"),
            ("Retry-After", key),
        ]
        if body_status:
            err = {"type": key, "message": f"invalid key {key}", "param": key}
            body = json.dumps({"error": err}).encode()
        else:
            body = f"<html>your key is {key}</html>".encode()
        resp = web.Response(status=status, body=body, content_type="application/json")
        for name, value in headers:
            resp.headers.add(name, value)
        return resp

    return handler


def compressed_reply(
    body: bytes, encoding: str = "gzip", status: int = 200, *, corrupt: bool = False
) -> Handler:
    """``body`` compressed as ``encoding`` (gzip, deflate, raw-deflate), sent as-is."""
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}.get(encoding, 31)
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    data = packer.compress(body) + packer.flush()
    if corrupt:
        data = data[:10] + bytes(b ^ 0x5A for b in data[10:40]) + data[40:]
    header = "deflate" if encoding == "raw-deflate" else encoding

    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Encoding": header, "Content-Type": "application/json"}
        return web.Response(status=status, body=data, headers=headers)

    return handler


def gzip_bomb(size: int) -> Handler:
    """``size`` bytes of zeros as gzip (about 1,000:1), built without holding them."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    block = b"0" * 2**20
    parts = [packer.compress(block) for _ in range(size // len(block))]
    data = b"".join(parts) + packer.flush()

    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        return web.Response(body=data, headers=headers)

    return handler


def trickle_body(every: float = 0.05) -> Handler:
    """Slowloris: headers at once, then one body byte every ``every`` seconds, forever."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            while True:
                await resp.write(b" ")
                await asyncio.sleep(every)
        except ConnectionError:
            request.app[HUNG_UP].set()
        return resp

    return handler
