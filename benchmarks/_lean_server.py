"""The lean fixed server: the API's hot routes answered from pre-encoded bytes.

    python -m benchmarks._lean_server [--port 0] [--sessions 100000] [--latency 0.02]
        [--events 200000]

Why not the emulator: it validates, stores and filters, and spends 190-340 us
of CPU per placed call, which hides the client being measured.  This server
does no work per request beyond aiohttp's own parsing:

* ``POST /api/v1/make-call`` reads the body and answers a fixed ``201`` ``Call``;
* ``GET /api/v1/voice-sessions?limit=&offset=`` joins pre-encoded sessions
  (newest first, the canonical envelope with ``total`` and ``has_more``),
  after ``--latency`` seconds if given; filters are ignored, which is correct
  here since no session is ever added;
* ``GET /api/v1/voice-sessions/{id}/events?after_seq=`` (WebSocket) sends
  pre-encoded ``transcript.partial`` frames then a ``session.ended``, then
  closes 1000.

Every route checks the ``Authorization`` header, so a client that forgot it
fails loudly.  The parent reads the ``running at`` banner (see
``_common.ServerProcess``) and pins this process to its own CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from datetime import datetime, timedelta, timezone

from aiohttp import web

from ._common import API_KEY
from ._common import LEAN_SESSION_ID as SESSION_ID

BEARER = f"Bearer {API_KEY}"
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
JSON = "application/json"

CALL = json.dumps(
    {
        "session_id": "sess_lean_call",
        "status": "queued",
        "to": "+15555555678",
        "from": "+15555551234",
        "agent_key": "support_primary",
        "created_at": "2026-01-01T00:00:00Z",
        "call_sid": None,
        "metadata": {},
    }
).encode()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def session_items(count: int) -> list[bytes]:
    """``count`` sessions, newest first, each already JSON-encoded."""
    items = []
    for index in range(count):
        created = EPOCH - timedelta(seconds=index)
        items.append(
            json.dumps(
                {
                    "id": f"sess_{index:08d}",
                    "tenant_id": "tenant_bench",
                    "status": "completed",
                    "direction": "outbound",
                    "to": "+15555555678",
                    "from": "+15555551234",
                    "agent_key": "support_primary",
                    "created_at": _iso(created),
                    "started_at": _iso(created + timedelta(seconds=1)),
                    "ended_at": _iso(created + timedelta(seconds=61)),
                    "duration_seconds": 60.0,
                    "call_sid": f"CA{index:032d}",
                    "metadata": {"order": index},
                }
            ).encode()
        )
    return items


def event_frames(count: int) -> list[str]:
    """``count`` events of one finished session: partial transcripts, then the end."""
    frames = []
    for seq in range(1, count + 1):
        ts = _iso(EPOCH + timedelta(milliseconds=seq))
        if seq < count:
            kind, data = "transcript.partial", {"role": "caller", "text": f"word {seq}"}
        else:
            kind, data = "session.ended", {"status": "completed", "duration_seconds": 60.0}
        event = {"type": kind, "session_id": SESSION_ID, "seq": seq, "ts": ts, "data": data}
        frames.append(json.dumps(event, separators=(",", ":")))
    return frames


def _authorized(request: web.Request) -> bool:
    return request.headers.get("Authorization") == BEARER


UNAUTHORIZED = b'{"error":{"type":"authentication_error","message":"unauthorized"}}'


def _unauthorized() -> web.Response:
    return web.Response(status=401, content_type=JSON, body=UNAUTHORIZED)


def make_app(sessions: list[bytes], frames: list[str], latency: float) -> web.Application:
    total = len(sessions)

    async def make_call(request: web.Request) -> web.Response:
        await request.read()
        if not _authorized(request):
            return _unauthorized()
        return web.Response(status=201, content_type=JSON, body=CALL)

    async def list_sessions(request: web.Request) -> web.Response:
        if not _authorized(request):
            return _unauthorized()
        limit = int(request.query.get("limit", "20"))
        offset = int(request.query.get("offset", "0"))
        if latency:
            await asyncio.sleep(latency)
        end = min(offset + limit, total)
        meta = f'],"limit":{limit},"offset":{offset},"total":{total},'
        meta += f'"has_more":{"true" if end < total else "false"}}}'
        body = b'{"data":[' + b",".join(sessions[offset:end]) + meta.encode()
        return web.Response(content_type=JSON, body=body)

    async def events(request: web.Request) -> web.StreamResponse:
        if not _authorized(request):
            return _unauthorized()
        after = int(request.query.get("after_seq", "0"))
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        for frame in frames[after:]:
            await ws.send_str(frame)
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_post("/api/v1/make-call", make_call)
    app.router.add_get("/api/v1/voice-sessions", list_sessions)
    app.router.add_get("/api/v1/voice-sessions/{session_id}/events", events)
    return app


async def serve(port: int, sessions: int, latency: float, n_events: int) -> None:
    app = make_app(session_items(sessions), event_frames(n_events), latency)
    runner = web.AppRunner(app, access_log=None)  # SIGTERM ends it at once
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"lean server running at http://127.0.0.1:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per list page")
    parser.add_argument("--events", type=int, default=1_000)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.sessions, args.latency, args.events))


if __name__ == "__main__":
    main()
