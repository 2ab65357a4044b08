"""Deliberately hostile servers for the iterator and the live-events stream.

Each speaks just enough of the wire contract to be believed, then misbehaves
in one precise way a broken proxy or server could: a list that ignores
``offset``, a WebSocket that closes 1000 without ``session.ended``, one that
accepts and drops after every event, one that echoes the caller's key.  They
count what they receive, so tests bound requests and reconnects by counting
rather than by timing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from .._loopback import HOST, Loopback, LoopbackApp

API_KEY = "sk_test_hostile_0123456789abcdef"
SESSION_ID = "vs_hostile"


def session(index: int, *, created_at: str | None = None) -> dict[str, Any]:
    """A valid session; a higher ``index`` is older (the list is newest first)."""
    when = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc) - timedelta(seconds=index)
    return {
        "id": f"vs_{10**6 - index:07d}",
        "tenant_id": "tn_1",
        "status": "completed",
        "direction": "outbound",
        "to": "+15555555678",
        "from": "+15555551234",
        "agent_key": "support_primary",
        "created_at": created_at or when.isoformat().replace("+00:00", "Z"),
        "metadata": {},
    }


PageHandler = Callable[[int, int], Any]
"""``(offset, limit) -> JSON payload`` of one list request."""


class PageServer(LoopbackApp):
    """``GET /api/v1/voice-sessions`` answered by ``handler(offset, limit)``."""

    shutdown_timeout = 0.5

    def __init__(self, handler: PageHandler) -> None:
        super().__init__()
        self.handler = handler
        self.delay = 0.0  # seconds before each answer: a slow server
        self.requests: list[tuple[int, int]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/voice-sessions", self._list)
        return app

    async def _list(self, request: web.Request) -> web.Response:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        self.requests.append((offset, limit))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(self.handler(offset, limit))


def event(seq: int, type_: str = "transcript.partial", sid: str = SESSION_ID) -> str:
    data: dict[str, Any] = {"role": "caller", "text": f"word {seq}"}
    if type_ == "session.ended":
        data = {"status": "completed", "duration_seconds": 3}
    ts = "2026-11-25T15:30:09.120Z"
    return json.dumps({"type": type_, "session_id": sid, "seq": seq, "ts": ts, "data": data})


Script = Callable[[ServerConnection, int], Awaitable[None]]
"""``(connection, after_seq)``: what the server does on one connection."""


class EventServer(Loopback):
    """A websockets server on 127.0.0.1 running ``script`` on every connection.

    ``refuse`` answers every handshake with that HTTP response instead.
    ``after_seqs`` records the ``after_seq`` of each connection, in order.
    """

    def __init__(self, script: Script, *, refuse: Response | None = None) -> None:
        self.script = script
        self.refuse = refuse
        self.after_seqs: list[int] = []
        self.handshakes = 0
        self.base_url = ""
        self._server: Server | None = None

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        self.handshakes += 1
        return self.refuse

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = ws.request.path.partition("?")[2]
        after = int(dict(p.split("=", 1) for p in query.split("&") if p).get("after_seq", "0"))
        self.after_seqs.append(after)
        await self.script(ws, after)

    async def start(self) -> None:
        self._server = await serve(self._handle, HOST, 0, process_request=self._process_request)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.base_url = f"http://{HOST}:{port}"

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
