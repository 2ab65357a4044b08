"""POST /api/v1/make-call: auth, validation, the Call shape, idempotency, lifecycle."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from voice_async.testing import Emulator

from .emu_helpers import (
    CALL,
    CALL_SID,
    ISO_SECONDS,
    SESSION_ID,
    auth,
    place_call,
    read_events,
    request,
    wait_until,
)


async def test_placed_call_has_the_contract_shape(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    reply = await place_call(http, emu)
    assert reply.status == 201
    assert reply.headers["Content-Type"].startswith("application/json")
    call = reply.json()
    assert set(call) == {
        "session_id",
        "call_sid",
        "status",
        "to",
        "from",
        "agent_key",
        "created_at",
        "metadata",
    }
    assert SESSION_ID.fullmatch(call["session_id"])
    assert CALL_SID.fullmatch(call["call_sid"])
    assert ISO_SECONDS.fullmatch(call["created_at"])
    assert call["status"] == "queued"
    assert (call["to"], call["from"], call["agent_key"]) == (
        CALL["to"],
        CALL["from"],
        CALL["agent_key"],
    )
    assert call["metadata"] == {"order_id": "A-1001"}
    assert emu.stats.calls_placed == 1
    session = emu.session(call["session_id"])
    assert session is not None
    assert session["direction"] == "outbound"
    assert session["call_sid"] == call["call_sid"]
    assert session["tenant_id"] == emu.tenant_id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk_wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong", "basic", "empty"],
)
async def test_bad_auth_is_401(
    emu: Emulator, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    reply = await place_call(http, emu, headers=headers)
    assert reply.status == 401
    assert reply.error()["type"] == "authentication_error"
    assert emu.stats.calls_placed == 0


def _call(**changes: Any) -> dict[str, Any]:
    body = dict(CALL)
    for name, value in changes.items():
        if value is ...:
            body.pop(name)
        else:
            body[name] = value
    return body


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"\xff\xfe", None),
        ([1, 2], None),
        ("just a string", None),
        (_call(to=...), "to"),
        (_call(to="+0123456789"), "to"),
        (_call(to="15555555678"), "to"),
        (_call(to="+1234567"), "to"),
        (_call(to="+1234567890123456"), "to"),
        (_call(to=15555555678), "to"),
        (_call(to="+1555555567\n"), "to"),
        (_call(**{"from": "+1-555-555"}), "from"),
        (_call(**{"from": ...}), "from"),
        (_call(agent_key=...), "agent_key"),
        (_call(agent_key=""), "agent_key"),
        (_call(agent_key="a" * 129), "agent_key"),
        (_call(agent_key="bad key!"), "agent_key"),
        (_call(agent_key=7), "agent_key"),
        (_call(metadata="x"), "metadata"),
        (_call(metadata=[1]), "metadata"),
        (_call(metadata={"blob": "x" * (16 * 1024)}), "metadata"),
        (_call(priority="high"), "priority"),
    ],
)
async def test_invalid_bodies_are_400(
    emu: Emulator, http: aiohttp.ClientSession, body: Any, param: str | None
) -> None:
    reply = await place_call(http, emu, body)
    assert reply.status == 400
    error = reply.error()
    assert error["type"] == "invalid_request"
    assert error["param"] == param
    assert emu.stats.calls_placed == 0


@pytest.mark.parametrize(
    "body",
    [
        _call(to="+12345678"),
        _call(to="+123456789012345"),
        _call(agent_key="a" * 128),
        _call(agent_key="Agent_v2.1-beta"),
        _call(metadata=None),
        _call(metadata=...),
        _call(metadata={"blob": "x" * (16 * 1024 - 20)}),
    ],
)
async def test_edge_valid_bodies_are_accepted(
    emu: Emulator, http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    reply = await place_call(http, emu, body)
    assert reply.status == 201, reply.text
    assert isinstance(reply.json()["metadata"], dict)


async def test_unknown_agent_key_is_422(emu: Emulator, http: aiohttp.ClientSession) -> None:
    reply = await place_call(http, emu, _call(agent_key="unknown_agent"))
    assert reply.status == 422
    assert reply.error() == {
        "type": "validation_error",
        "param": "agent_key",
        "message": "unknown agent_key 'unknown_agent'",
    }
    assert emu.stats.calls_placed == 0


async def test_same_key_same_body_replays_the_original(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    first = await place_call(http, emu, key="key-1")
    # Same body with another key order and spacing: canonical JSON is equal.
    reordered = json.dumps(dict(reversed(list(CALL.items()))), indent=2).encode()
    second = await place_call(http, emu, reordered, key="key-1")
    assert (second.status, second.body) == (first.status, first.body)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert emu.stats.calls_placed == 1
    assert emu.stats.idempotent_replays == 1
    assert emu.total_sessions == 60 + 1


async def test_same_key_other_body_is_409_conflict(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    assert (await place_call(http, emu, key="key-2")).status == 201
    reply = await place_call(http, emu, _call(to="+15555550000"), key="key-2")
    assert reply.status == 409
    assert reply.error()["type"] == "idempotency_conflict"
    assert reply.error()["param"] == "Idempotency-Key"
    assert emu.stats.calls_placed == 1


async def test_same_key_while_in_flight_is_409_in_progress(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.faults.latency(0.3, route="make_call")
    first = asyncio.ensure_future(place_call(http, emu, key="key-3"))
    await wait_until(lambda: emu.stats.requests["make_call"] >= 1)
    await asyncio.sleep(0.05)
    emu.faults.clear()
    racing = await place_call(http, emu, key="key-3")
    assert racing.status == 409
    assert racing.error()["type"] == "idempotency_in_progress"
    original = await first
    assert original.status == 201
    replay = await place_call(http, emu, key="key-3")
    assert (replay.status, replay.body) == (201, original.body)
    assert emu.stats.calls_placed == 1


async def test_a_conflicting_body_wins_over_in_progress(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.faults.latency(0.2, route="make_call")
    first = asyncio.ensure_future(place_call(http, emu, key="key-4"))
    await wait_until(lambda: emu.stats.requests["make_call"] >= 1)
    await asyncio.sleep(0.05)
    other = await place_call(http, emu, _call(agent_key="other"), key="key-4")
    assert other.error()["type"] == "idempotency_conflict"
    assert (await first).status == 201


async def test_rejected_requests_do_not_burn_the_key(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    bad = await place_call(http, emu, _call(to="nope"), key="key-5")
    assert bad.status == 400
    good = await place_call(http, emu, key="key-5")
    assert good.status == 201


@pytest.mark.parametrize(("length", "status"), [(255, 201), (256, 400), (0, 400)])
async def test_idempotency_key_length(
    emu: Emulator, http: aiohttp.ClientSession, length: int, status: int
) -> None:
    reply = await place_call(http, emu, key="k" * length)
    assert reply.status == status
    if status == 400:
        assert reply.error()["param"] == "Idempotency-Key"


async def test_calls_without_key_are_never_deduplicated(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    first, second = await place_call(http, emu), await place_call(http, emu)
    assert first.json()["session_id"] != second.json()["session_id"]
    assert emu.stats.calls_placed == 2


async def test_lifecycle_updates_the_session(emu: Emulator, http: aiohttp.ClientSession) -> None:
    session_id = (await place_call(http, emu)).json()["session_id"]
    frames, code = await read_events(http, emu, session_id)
    assert code == 1000
    reply = await request(
        http, "GET", f"{emu.base_url}/api/v1/voice-sessions/{session_id}", headers=auth(emu)
    )
    session = reply.json()
    assert session["status"] == "completed"
    assert ISO_SECONDS.fullmatch(session["started_at"])
    assert ISO_SECONDS.fullmatch(session["ended_at"])
    assert isinstance(session["duration_seconds"], int)
    assert frames[-1]["data"] == {
        "status": "completed",
        "duration_seconds": session["duration_seconds"],
    }


async def test_emulator_outcome_metadata_picks_the_ending(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    body = _call(metadata={"emulator_outcome": "no_answer"})
    session_id = (await place_call(http, emu, body)).json()["session_id"]
    frames, _ = await read_events(http, emu, session_id)
    assert [f["type"] for f in frames] == [
        "session.started",
        "session.status",
        "session.status",
        "session.ended",
    ]
    assert frames[-1]["data"] == {"status": "no_answer", "duration_seconds": 0}
    session = emu.session(session_id)
    assert session is not None
    assert (session["status"], session["started_at"]) == ("no_answer", None)


async def _first_call_script(seed: int, http: aiohttp.ClientSession) -> list[Any]:
    async with Emulator(seed=seed) as emu:
        session_id = (await place_call(http, emu)).json()["session_id"]
        frames, _ = await read_events(http, emu, session_id)
    return [(f["type"], f["data"]) for f in frames if f["type"] != "session.ended"]


async def test_conversations_are_deterministic_per_seed(http: aiohttp.ClientSession) -> None:
    assert await _first_call_script(11, http) == await _first_call_script(11, http)
