"""Valid wire payloads (as in the contract) and the SDK calls that fetch them.

The bad-input suites start from these and break one thing at a time, so a
failure points at exactly what the SDK did not cope with.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from voice_async import AsyncVoiceClient

SESSION: dict[str, Any] = {
    "id": "vs_01JD8Z6Q0A",
    "tenant_id": "tn_123",
    "status": "completed",
    "direction": "outbound",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "created_at": "2026-11-25T15:30:00Z",
    "started_at": "2026-11-25T15:30:04Z",
    "ended_at": "2026-11-25T15:33:10Z",
    "duration_seconds": 186,
    "call_sid": "CA0123",
    "metadata": {"order_id": "A-1001"},
}
CALL: dict[str, Any] = {
    "session_id": "vs_01JD8Z6Q0A",
    "call_sid": "CA0123",
    "status": "queued",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "created_at": "2026-11-25T15:30:00Z",
    "metadata": {},
}
CONFIG: dict[str, Any] = {
    "tenant_id": "tn_123",
    "model": "gpt-realtime",
    "voice": "alloy",
    "system_prompt_key": "support_default",
    "temperature": 0.7,
    "max_call_seconds": 1800,
    "version": 4,
    "updated_at": "2026-11-25T15:30:00Z",
}
PAGE: dict[str, Any] = {"data": [SESSION], "limit": 25, "offset": 0, "total": 1, "has_more": False}
EVENT_TS = "2026-11-25T15:30:09.120Z"

Op = Callable[[AsyncVoiceClient], Awaitable[Any]]


async def make_call(client: AsyncVoiceClient) -> Any:
    return await client.make_call(
        to="+15555555678", from_="+15555551234", agent_key="support_primary"
    )


async def get_session(client: AsyncVoiceClient) -> Any:
    return await client.sessions.get("vs_01JD8Z6Q0A")


async def list_sessions(client: AsyncVoiceClient) -> Any:
    return await client.sessions.list(limit=25)


async def get_config(client: AsyncVoiceClient) -> Any:
    return await client.admin.get_runtime_config("tn_123")


#: Each SDK call with the body a healthy server would answer it with.
OPS: dict[str, tuple[Op, dict[str, Any]]] = {
    "make_call": (make_call, CALL),
    "get_session": (get_session, SESSION),
    "list_sessions": (list_sessions, PAGE),
    "get_config": (get_config, CONFIG),
}


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def event(seq: int, type_: str = "transcript.final", /, **extra: Any) -> str:
    """One events frame; ``data`` fits ``type_``; ``extra`` overrides or adds fields."""
    typed: dict[str, dict[str, Any]] = {
        "transcript.final": {"role": "caller", "text": f"utterance {seq}"},
        "session.ended": {"status": "completed", "duration_seconds": 3},
    }
    data = typed.get(type_, {"anything": seq})
    frame = {"type": type_, "session_id": "vs_1", "seq": seq, "ts": EVENT_TS, "data": data}
    frame.update(extra)
    return json.dumps(frame)
