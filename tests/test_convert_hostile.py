"""NaN and Infinity from a hostile server: a typed error, never a model holding them.

Python's ``json`` parses the non-standard ``NaN``/``Infinity`` tokens, so a
server (or proxy) sending them gets past the JSON parse; the decoders reject
them as invalid for a numeric field, the way they reject a string there.
The server below is deliberately not the emulator: it sends raw bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from voice_async import APIResponseValidationError, AsyncVoiceClient, VoiceError

from ._loopback import LoopbackApp

API_KEY = "sk_test_hostile_0123456789"
SESSION = (
    '{{"id": "vs_1", "status": "completed", "direction": "outbound", "to": "+15555555678", '
    '"from": "+15555551234", "agent_key": "support_primary", '
    '"created_at": "2026-11-25T15:30:00Z", "duration_seconds": {number}}}'
)
ENDED = (
    '{{"type": "session.ended", "session_id": "vs_1", "seq": 1, '
    '"ts": "2026-11-25T15:30:00Z", '
    '"data": {{"status": "completed", "duration_seconds": {number}}}}}'
)


class HostileServer(LoopbackApp):
    """Answers every session route with ``number`` spliced into the JSON as sent."""

    def __init__(self) -> None:
        super().__init__()
        self.number = "NaN"
        self.requests = 0

    def app(self) -> web.Application:
        async def one(request: web.Request) -> web.Response:
            self.requests += 1
            return web.Response(
                text=SESSION.format(number=self.number), content_type="application/json"
            )

        async def page(request: web.Request) -> web.Response:
            self.requests += 1
            items = f"{SESSION.format(number=1)}, {SESSION.format(number=self.number)}"
            body = f'{{"data": [{items}], "limit": 20, "offset": 0, "total": 2, "has_more": false}}'
            return web.Response(text=body, content_type="application/json")

        async def events(request: web.Request) -> web.WebSocketResponse:
            self.requests += 1
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.send_str(ENDED.format(number=self.number))
            await ws.close()
            return ws

        app = web.Application()
        app.router.add_get("/api/v1/voice-sessions", page)
        app.router.add_get("/api/v1/voice-sessions/{id}", one)
        app.router.add_get("/api/v1/voice-sessions/{id}/events", events)
        return app


NUMBERS = ["NaN", "Infinity", "-Infinity"]


@pytest.fixture(params=NUMBERS)
async def hostile(request: pytest.FixtureRequest) -> AsyncIterator[HostileServer]:
    """The server, splicing each of :data:`NUMBERS` in turn."""
    async with HostileServer() as server:
        server.number = request.param
        yield server


@pytest.fixture
async def hostile_client(hostile: HostileServer) -> AsyncIterator[AsyncVoiceClient]:
    """A client of :func:`hostile` that does not retry."""
    async with AsyncVoiceClient(
        api_key=API_KEY, base_url=hostile.base_url, max_retries=0
    ) as client:
        yield client


async def test_get_rejects_a_non_finite_duration(
    hostile: HostileServer, hostile_client: AsyncVoiceClient
) -> None:
    server, client = hostile, hostile_client
    with pytest.raises(APIResponseValidationError, match="finite") as caught:
        await asyncio.wait_for(client.sessions.get("vs_1"), 10)
    assert "field 'duration_seconds': expected a finite number" in str(caught.value)
    assert "duration_seconds" in (caught.value.body_excerpt or "")
    server.number = "186.5"
    assert (await client.sessions.get("vs_1")).duration_seconds == 186.5


async def test_list_and_iter_reject_a_page_holding_one(
    hostile_client: AsyncVoiceClient,
) -> None:
    with pytest.raises(APIResponseValidationError, match="finite") as caught:
        await asyncio.wait_for(hostile_client.sessions.list(), 10)
    # The error names the item and the field, and quotes that item.
    assert "item 1: field 'duration_seconds'" in str(caught.value)
    assert (caught.value.body_excerpt or "").startswith("{'id': 'vs_1'")  # the item, not the page
    got = []
    with pytest.raises(APIResponseValidationError, match="finite"):
        async with hostile_client.sessions.iter() as sessions:
            async for session in sessions:
                got.append(session)
    assert got == []  # the bad page is not half-delivered


async def test_live_event_with_a_non_finite_number_is_a_typed_error(
    hostile_client: AsyncVoiceClient,
) -> None:
    delivered = []
    with pytest.raises(VoiceError, match="finite"):
        async with hostile_client.sessions.events("vs_1") as stream:
            async for event in stream:
                delivered.append(event)
    assert delivered == []
