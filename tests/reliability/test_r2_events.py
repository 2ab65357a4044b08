"""R2: live events through a socket that keeps dying.

The emulator drops every events WebSocket after each ``K`` events, either
abruptly (TCP closed, no close frame: the client sees 1006) or with a close
code the contract calls transient.  Whatever the mode, a consumer of
``client.sessions.events(id)`` must see every one of the ``N`` events exactly
once and in order, ending with ``session.ended``.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from voice_async import AsyncVoiceClient, EventType, Runtime, SessionEvent
from voice_async.testing import WS_DROP_MODES, Emulator

from ..conftest import FakeSleep
from .conftest import client_for

N_EVENTS = 3_000
K = 97  # does not divide N: the last connection delivers a partial batch
STREAMS = 4


async def _consume(client: AsyncVoiceClient, session_id: str) -> tuple[list[SessionEvent], int]:
    stream = client.sessions.events(session_id)
    events = [event async for event in stream]
    return events, stream.reconnects


def _assert_exactly_once(events: list[SessionEvent], session_id: str, n: int) -> None:
    seqs = [event.seq for event in events]
    assert seqs == list(range(1, n + 1)), _first_difference(seqs, n)
    assert {event.session_id for event in events} == {session_id}
    assert events[-1].type is EventType.SESSION_ENDED


def _first_difference(seqs: list[int], n: int) -> str:
    for index, (got, want) in enumerate(zip(seqs, range(1, n + 1), strict=False)):
        if got != want:
            return f"at index {index}: got seq {got}, expected {want}"
    return f"got {len(seqs)} events, expected {n}"


@pytest.mark.parametrize("mode", WS_DROP_MODES)
async def test_every_event_once_in_order_through_drops(emu: Emulator, mode: str) -> None:
    emu.faults.ws_drop_every(K, mode)
    ids = [emu.add_event_session(N_EVENTS) for _ in range(STREAMS)]
    sleep = FakeSleep()
    async with client_for(emu, runtime=Runtime(sleep=sleep)) as client:
        results = await asyncio.gather(*(_consume(client, i) for i in ids))
    drops_per_stream = (N_EVENTS - 1) // K  # none after the final event
    for session_id, (events, reconnects) in zip(ids, results, strict=True):
        _assert_exactly_once(events, session_id, N_EVENTS)
        assert reconnects == drops_per_stream
    assert emu.stats.ws_drops == STREAMS * drops_per_stream
    if mode == "1013":  # "try again later": the client must wait before each retry
        assert len(sleep.delays) == STREAMS * drops_per_stream
        assert all(delay > 0 for delay in sleep.delays)


@pytest.mark.parametrize("mode", ["abrupt", "1012"])
async def test_drop_after_every_single_event(emu: Emulator, mode: str) -> None:
    """K = 1: each connection delivers one event; nothing is lost or repeated."""
    emu.faults.ws_drop_every(1, mode)
    session_id = emu.add_event_session(300)
    async with client_for(emu, runtime=Runtime(sleep=FakeSleep())) as client:
        events, reconnects = await _consume(client, session_id)
    _assert_exactly_once(events, session_id, 300)
    assert reconnects == 299  # the drop after session.ended is not reconnected


async def test_resume_in_a_new_stream_from_last_seq(emu: Emulator) -> None:
    """A consumer that stops and resumes elsewhere from ``last_seq`` loses nothing."""
    emu.faults.ws_drop_every(K, "abrupt")
    session_id = emu.add_event_session(N_EVENTS)
    seen: list[SessionEvent] = []
    async with client_for(emu, runtime=Runtime(sleep=FakeSleep())) as client:
        for stop_at in (1, 250, 251, 1_500, N_EVENTS + 1):
            after = seen[-1].seq if seen else 0
            async with client.sessions.events(session_id, after_seq=after) as stream:
                async for event in stream:
                    seen.append(event)
                    if event.seq == stop_at:
                        break
    _assert_exactly_once(seen, session_id, N_EVENTS)


async def test_leaving_a_busy_stream_is_prompt(emu: Emulator) -> None:
    """``break`` out of a stream with frames still in flight: the close must be quick.

    python-websockets alone would wait ``close_timeout`` here (5 s): its full
    receive queue stops it from reading the peer's close frame (#1555).
    """
    session_id = emu.add_event_session(N_EVENTS)
    async with client_for(emu) as client:
        stream = client.sessions.events(session_id)
        async for event in stream:
            if event.seq == 10:
                break
        started = time.monotonic()
        await asyncio.wait_for(stream.aclose(), 2.0)  # bounded, should it regress
        assert time.monotonic() - started < 1.0
