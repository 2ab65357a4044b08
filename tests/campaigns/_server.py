"""A make-call server that answers what a test decides, and measures the client.

The emulator speaks the contract; this one answers whatever status a test
wants per request (a 403, a 400 the local checks cannot predict, a 429
without ``Retry-After``) and records how many requests were in flight at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .._loopback import LoopbackApp

#: ``decide(number, body) -> (status, error_type, headers)``; ``number`` counts from 1.
Decide = Callable[[int, dict[str, Any]], tuple[int, str | None, dict[str, str]]]


def always_201(number: int, body: dict[str, Any]) -> tuple[int, str | None, dict[str, str]]:
    return 201, None, {}


class MakeCallServer(LoopbackApp):
    def __init__(self, decide: Decide = always_201, *, latency: float = 0.0) -> None:
        super().__init__()
        self.decide, self.latency = decide, latency
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.placed: dict[str, str] = {}  # idempotency key -> session id

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v1/make-call", self._make_call)
        return app

    async def _make_call(self, request: web.Request) -> web.Response:
        self.requests += 1
        number = self.requests
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = json.loads(await request.read())
            await asyncio.sleep(self.latency)
            status, error_type, headers = self.decide(number, body)
            if status != 201:
                error = {"error": {"type": error_type, "message": f"scripted {status}"}}
                return web.json_response(error, status=status, headers=headers)
            key = request.headers["Idempotency-Key"]
            session_id = self.placed.setdefault(key, f"vs_{len(self.placed) + 1:06d}")
            call = {
                "session_id": session_id,
                "status": "queued",
                "to": body["to"],
                "from": body["from"],
                "agent_key": body["agent_key"],
                "created_at": "2026-11-25T15:30:00Z",
                "metadata": {},
            }
            return web.json_response(call, status=201)
        finally:
            self.in_flight -= 1
