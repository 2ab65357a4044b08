"""Small helpers for the emulator tests: headers, one-shot requests, WS reads."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from voice_async.testing import Emulator
from voice_async.testing._app import Api
from voice_async.testing._validation import CallRequest

CALL: dict[str, Any] = {
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "metadata": {"order_id": "A-1001"},
}
SESSION_ID = re.compile(r"vs_[0-9A-HJKMNP-TV-Z]{26}")
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")


def auth(emu: Emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.api_key}"}


def admin(emu: Emulator) -> dict[str, str]:
    return {"x-admin-key": emu.admin_key}


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    def error(self) -> dict[str, Any]:
        body = self.json()
        assert set(body) == {"error"}
        assert set(body["error"]) == {"type", "message", "param"}
        return dict(body["error"])


async def request(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Reply:
    async with http.request(method, url, **kwargs) as response:
        return Reply(response.status, response.headers, await response.read())


async def place_call(
    http: aiohttp.ClientSession,
    emu: Emulator,
    body: Any = None,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    sent = dict(auth(emu) if headers is None else headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    payload = CALL if body is None else body
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent["content-type"] = "application/json"
    return await request(http, "POST", f"{emu.base_url}/api/v1/make-call", data=data, headers=sent)


def events_url(emu: Emulator, session_id: str, after_seq: int | None = None) -> str:
    url = f"{emu.base_url}/api/v1/voice-sessions/{session_id}/events"
    return url if after_seq is None else f"{url}?after_seq={after_seq}"


async def read_events(
    http: aiohttp.ClientSession,
    emu: Emulator,
    session_id: str,
    after_seq: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame until the server closes, and the close code the client saw."""
    frames = []
    async with http.ws_connect(
        events_url(emu, session_id, after_seq),
        headers=auth(emu) if headers is None else headers,
        timeout=aiohttp.ClientWSTimeout(ws_receive=5, ws_close=5),
    ) as ws:
        async for message in ws:
            assert message.type is aiohttp.WSMsgType.TEXT
            frames.append(json.loads(message.data))
    return frames, ws.close_code


async def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Poll ``predicate`` (emulator state has no events to wait on from outside)."""
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached in time")


async def place_calls(emu: Emulator, n: int) -> None:
    """``n`` calls placed the way make-call places them (an idempotency key, a
    live simulated call), without HTTP; returns once every call finished."""
    api = Api(emu._state)
    first = emu.total_sessions
    for i in range(first, first + n):
        call = CallRequest(CALL["to"], CALL["from"], CALL["agent_key"], {"order_id": f"A-{i}"})
        key = f"key-{i:08d}-0123456789abcdef0123"
        emu._state.idempotency.begin(key, call.canonical())
        api._place(call, key)
        if i % 200 == 0:
            await asyncio.sleep(0)
    while emu._state.tasks:  # noqa: ASYNC110 - let every simulated call finish
        await asyncio.sleep(0.01)


async def bytes_per_placed_call(emu: Emulator, n: int) -> float:
    """What ``n`` more placed calls add to the emulator's memory, per call (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await place_calls(emu, n)
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - before) / n
    finally:
        tracemalloc.stop()
