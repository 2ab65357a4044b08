"""The events WebSocket: replay, live events, close codes, injected drops, speed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time

import aiohttp
import pytest

from voice_async.testing import Emulator

from .emu_helpers import (
    ISO_MILLIS,
    REQUEST_ID,
    auth,
    events_url,
    place_call,
    read_events,
    request,
)

EVENT_TYPES = {
    "session.started",
    "session.status",
    "transcript.partial",
    "transcript.final",
    "agent.response",
    "tool.call",
    "tool.result",
    "session.ended",
}


async def test_a_placed_call_streams_its_lifecycle_then_closes_1000(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    session_id = (await place_call(http, emu)).json()["session_id"]
    frames, code = await read_events(http, emu, session_id)
    assert code == 1000
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    for f in frames:
        assert set(f) == {"type", "session_id", "seq", "ts", "data"}
        assert f["session_id"] == session_id
        assert f["type"] in EVENT_TYPES
        assert ISO_MILLIS.fullmatch(f["ts"])
    types = [f["type"] for f in frames]
    assert frames[0]["data"] == {
        "direction": "outbound",
        "to": "+15555555678",
        "from": "+15555551234",
        "agent_key": "support_primary",
    }
    statuses = [f["data"]["status"] for f in frames if f["type"] == "session.status"]
    assert statuses == ["ringing", "in_progress", "completed"]
    assert {"transcript.partial", "transcript.final", "agent.response"} <= set(types)
    # metadata carries an order_id, so the agent looks it up with a tool
    call = types.index("tool.call")
    assert types[call + 1] == "tool.result"
    assert frames[call]["data"] == {"name": "lookup_order", "arguments": {"order_id": "A-1001"}}
    roles = {f["data"]["role"] for f in frames if f["type"].startswith("transcript.")}
    assert roles == {"caller", "agent"}
    assert types[-1] == "session.ended"
    assert frames[-1]["data"]["status"] == "completed"
    assert emu.stats.ws_connects == 1


async def test_after_seq_replays_the_rest(emu: Emulator, http: aiohttp.ClientSession) -> None:
    session_id = (await place_call(http, emu)).json()["session_id"]
    frames, _ = await read_events(http, emu, session_id)
    rest, code = await read_events(http, emu, session_id, after_seq=5)
    assert rest == frames[5:]
    assert code == 1000
    nothing, code = await read_events(http, emu, session_id, after_seq=len(frames) + 10)
    assert (nothing, code) == ([], 1000)


async def test_live_events_arrive_as_they_happen(http: aiohttp.ClientSession) -> None:
    async with Emulator(event_interval=0.02) as emu:
        session_id = (await place_call(http, emu)).json()["session_id"]
        arrivals: list[float] = []
        statuses: list[str] = []
        async with http.ws_connect(events_url(emu, session_id), headers=auth(emu)) as ws:
            async for _message in ws:
                arrivals.append(time.perf_counter())
                if len(arrivals) == 2:
                    session = emu.session(session_id)
                    assert session is not None
                    statuses.append(str(session["status"]))
        assert ws.close_code == 1000
        assert statuses == ["ringing"]
        assert arrivals[-1] - arrivals[0] >= 0.02 * (len(arrivals) - 1) * 0.7
        emu.event_interval = 0
        with pytest.raises(ValueError):
            emu.event_interval = -1


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer sk_wrong"}], ids=["missing", "wrong"]
)
async def test_bad_auth_closes_4001(
    emu: Emulator, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    session_id = emu.insert_sessions(1)[0]
    frames, code = await read_events(http, emu, session_id, headers=headers)
    assert (frames, code) == ([], 4001)


async def test_unknown_session_closes_4004(emu: Emulator, http: aiohttp.ClientSession) -> None:
    frames, code = await read_events(http, emu, "vs_01M89R7R7TV3RS3DTR98H6BCFN")
    assert (frames, code) == ([], 4004)
    assert emu.stats.ws_connects == 1


@pytest.mark.parametrize("after_seq", ["-1", "x", "1.5"])
async def test_bad_after_seq_refuses_the_handshake(
    emu: Emulator, http: aiohttp.ClientSession, after_seq: str
) -> None:
    session_id = emu.insert_sessions(1)[0]
    url = events_url(emu, session_id) + f"?after_seq={after_seq}"
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(url, headers=auth(emu))
    assert caught.value.status == 400


async def test_plain_get_on_events_is_400(emu: Emulator, http: aiohttp.ClientSession) -> None:
    session_id = emu.insert_sessions(1)[0]
    reply = await request(http, "GET", events_url(emu, session_id), headers=auth(emu))
    assert reply.status == 400
    assert reply.error()["type"] == "invalid_request"
    assert REQUEST_ID.fullmatch(reply.headers["x-request-id"])


async def test_handshake_response_carries_a_request_id(emu: Emulator) -> None:
    session_id = emu.insert_sessions(1)[0]
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /api/v1/voice-sessions/{session_id}/events HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{emu.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {emu.api_key}\r\n\r\n".encode()
    )
    head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
    writer.close()
    await writer.wait_closed()
    assert head.startswith("http/1.1 101")
    assert "x-request-id: req_" in head


async def test_seeded_sessions_replay_a_finished_call(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    reply = await request(
        http, "GET", f"{emu.base_url}/api/v1/voice-sessions?limit=100", headers=auth(emu)
    )
    for session in reply.json()["data"][:12]:
        frames, code = await read_events(http, emu, session["id"])
        assert code == 1000
        assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
        assert frames[0]["type"] == "session.started"
        assert frames[-1]["data"] == {
            "status": session["status"],
            "duration_seconds": session["duration_seconds"],
        }
        assert [f["ts"] for f in frames] == sorted(f["ts"] for f in frames)
        again, _ = await read_events(http, emu, session["id"], after_seq=2)
        assert again == frames[2:]


async def test_inserted_sessions_have_events_too(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    session_id = emu.insert_sessions(1)[0]
    frames, code = await read_events(http, emu, session_id)
    assert code == 1000
    assert frames[-1]["type"] == "session.ended"


async def test_event_session_with_n_events(emu: Emulator, http: aiohttp.ClientSession) -> None:
    session_id = emu.add_event_session(1000, status="failed")
    frames, code = await read_events(http, emu, session_id)
    assert code == 1000
    assert [f["seq"] for f in frames] == list(range(1, 1001))
    assert frames[0]["type"] == "session.started"
    assert {f["type"] for f in frames[1:-1]} == {"transcript.partial"}
    assert frames[-1]["type"] == "session.ended"
    assert frames[-1]["data"]["status"] == "failed"
    assert all(ISO_MILLIS.fullmatch(f["ts"]) for f in frames)
    tail, _ = await read_events(http, emu, session_id, after_seq=998)
    assert tail == frames[998:]
    tiny = emu.add_event_session(1)
    frames, _ = await read_events(http, emu, tiny)
    assert [f["type"] for f in frames] == ["session.ended"]
    with pytest.raises(ValueError):
        emu.add_event_session(0)


async def test_streams_100k_events_in_one_connection(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    # How fast is a benchmark's question (P3), not a test's: a loaded CI
    # machine must not turn a timing into a failure.
    session_id = emu.add_event_session(100_000)
    count, last = 0, ""
    async with http.ws_connect(events_url(emu, session_id), headers=auth(emu)) as ws:
        async for message in ws:
            count += 1
            last = message.data
    assert (count, ws.close_code) == (100_000, 1000)
    assert json.loads(last)["seq"] == 100_000


async def test_abrupt_drops_every_k_events(emu: Emulator, http: aiohttp.ClientSession) -> None:
    session_id = emu.add_event_session(10)
    emu.faults.ws_drop_every(4)
    seqs: list[list[int]] = []
    codes = []
    after = 0
    while True:
        frames, code = await read_events(http, emu, session_id, after_seq=after)
        seqs.append([f["seq"] for f in frames])
        codes.append(code)
        if code == 1000:
            break
        after = frames[-1]["seq"]
    assert seqs == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert codes == [1006, 1006, 1000]
    assert emu.stats.ws_drops == 2


@pytest.mark.parametrize("mode", ["1012", "1001", "1011", "1013", 1012])
async def test_drops_with_a_close_code(
    emu: Emulator, http: aiohttp.ClientSession, mode: str | int
) -> None:
    session_id = emu.add_event_session(5)
    emu.faults.ws_drop_every(3, mode=mode)
    frames, code = await read_events(http, emu, session_id)
    assert ([f["seq"] for f in frames], code) == ([1, 2, 3], int(mode))
    frames, code = await read_events(http, emu, session_id, after_seq=3)
    assert ([f["seq"] for f in frames], code) == ([4, 5], 1000)


async def test_drop_on_the_last_event_then_reconnect_closes_1000(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    session_id = emu.add_event_session(4)
    emu.faults.ws_drop_every(4, mode="1012")
    frames, code = await read_events(http, emu, session_id)
    assert (len(frames), code) == (4, 1012)
    assert await read_events(http, emu, session_id, after_seq=4) == ([], 1000)


async def test_events_handshake_is_faulted_only_when_named(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    session_id = emu.insert_sessions(1)[0]
    emu.faults.fail_rate(1.0, kinds=["503"])
    assert (await read_events(http, emu, session_id))[1] == 1000
    emu.faults.script("503", "429", route="events")
    for status in (503, 429):
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await http.ws_connect(events_url(emu, session_id), headers=auth(emu))
        assert caught.value.status == status
    assert (await read_events(http, emu, session_id))[1] == 1000


async def test_closing_the_emulator_closes_live_streams_1001(
    http: aiohttp.ClientSession,
) -> None:
    emu = await Emulator(event_interval=30).start()
    try:
        session_id = (await place_call(http, emu)).json()["session_id"]
        ws = await http.ws_connect(events_url(emu, session_id), headers=auth(emu))
        first = await ws.receive_json()
        assert first["type"] == "session.started"
        pending = asyncio.ensure_future(ws.receive())
    finally:
        started = time.perf_counter()
        await emu.close()
    message = await pending
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == 1001
    await ws.close()
    assert time.perf_counter() - started < 2.0


async def test_a_client_that_leaves_early_is_cleaned_up(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    session_id = emu.add_event_session(50_000)
    async with http.ws_connect(events_url(emu, session_id), headers=auth(emu)) as ws:
        await ws.receive()
    # The server notices and the next stream works normally.
    frames, code = await read_events(http, emu, emu.insert_sessions(1)[0])
    assert code == 1000 and frames
