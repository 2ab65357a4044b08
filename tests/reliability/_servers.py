"""Loopback servers that answer exactly what a test scripts.

The emulator speaks the contract (plus a fixed menu of faults); these speak
anything at all -- wrong JSON types, redirects, garbage bytes -- so the suites
can feed the SDK what a broken proxy or a newer server might.  Both record
what they received, which is how the secret tests see the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import attrs
from aiohttp import web

from .._loopback import LoopbackApp, LoopbackStreams


@attrs.define
class Reply:
    """One scripted HTTP answer (used for every request until changed)."""

    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Seen:
    """A request as the server received it; header names are lower-cased."""

    method: str
    path: str
    headers: Mapping[str, str]


class ScriptedServer(LoopbackApp):
    """HTTP + WebSocket on ``127.0.0.1``: ``reply`` for HTTP, ``frames`` on ``.../events``.

    The events WebSocket sends ``frames`` (text or binary) and then closes
    with ``close_code``.  ``seen`` records every request, handshakes included.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reply = Reply()
        self.frames: list[str | bytes] = []
        self.close_code = 1000
        #: When set (``http://host:port``), every request is answered with a
        #: ``307`` to that origin, same path and query (``ws://`` for handshakes).
        self.redirect_to: str | None = None
        self.seen: list[Seen] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.seen.append(Seen(request.method, request.path, headers))
        await request.read()
        upgrade = headers.get("upgrade", "").lower() == "websocket"
        if self.redirect_to is not None:
            origin = (
                self.redirect_to.replace("http://", "ws://", 1) if upgrade else self.redirect_to
            )
            return web.Response(status=307, headers={"Location": origin + request.path_qs})
        if request.path.endswith("/events") and upgrade:
            return await self._events(request)
        reply = self.reply
        return web.Response(
            status=reply.status,
            body=reply.body,
            headers={"Content-Type": reply.content_type, **reply.headers},
        )

    async def _events(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in self.frames:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
        await ws.close(code=self.close_code)
        return ws


class RawServer(LoopbackStreams):
    """A TCP server that reads one HTTP request and answers ``payload``, byte for byte.

    For responses no HTTP framework would produce: bad status lines, lying
    ``Content-Length``, broken chunking, bodies cut off mid-stream.
    """

    def __init__(self) -> None:
        super().__init__()
        self.payload = b""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = _content_length(head)
        if length:
            await reader.readexactly(length)
        writer.write(self.payload)
        await writer.drain()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or b"0")
    return 0
