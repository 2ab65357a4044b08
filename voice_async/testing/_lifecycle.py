"""Creating sessions and simulating what happens to a call over time.

A placed (or inbound) call gets a live :class:`EventLog` and a task that plays
the script from :mod:`._script` into it, ``event_interval`` seconds apart,
updating the session's ``status``/``started_at``/``ended_at``/``duration_seconds``
as it goes. With ``event_interval=0`` the task still yields to the loop
between events, so clients observe the same ordering as with real delays.

The script is drawn from an rng seeded with ``(seed, n)`` where ``n`` counts
sessions created by this emulator: the same seed and the same sequence of
calls give the same conversations.

Placed calls complete normally. ``metadata["emulator_outcome"]`` set to one of
``failed``, ``no_answer``, ``busy`` or ``canceled`` makes the simulated call
end that way instead (ringing, then the final status, no conversation), so SDK
tests can exercise unhappy endings. ``add_event_session(status=...)`` accepts
any string, including statuses the contract does not know yet.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from ._events import EventLog, EventSource, FrameList, SyntheticLog
from ._script import call_steps, outcome_from_metadata
from ._seed import describe, finished_frames
from ._state import EmulatorState
from ._store import SessionRecord
from ._util import iso_seconds, mix64


def _call_rng(state: EmulatorState) -> random.Random:
    state.call_counter += 1
    return random.Random(mix64(state.seed) ^ state.call_counter)


def _call_sid(rng: random.Random) -> str:
    return f"CA{rng.getrandbits(128):032x}"


def create_call(
    state: EmulatorState,
    *,
    direction: str,
    to: str,
    from_: str,
    agent_key: str,
    metadata: dict[str, Any],
    call_sid: str | None = None,
) -> SessionRecord:
    """Store a new ``queued`` session and start its lifecycle task."""
    rng = _call_rng(state)
    session_id, created_ts = state.sessions.new_id()
    session: dict[str, Any] = {
        "id": session_id,
        "tenant_id": state.tenant_id,
        "status": "queued",
        "direction": direction,
        "to": to,
        "from": from_,
        "agent_key": agent_key,
        "created_at": iso_seconds(created_ts),
        "started_at": None,
        "ended_at": None,
        "duration_seconds": None,
        "call_sid": call_sid or _call_sid(rng),
        "metadata": metadata,
    }
    log = EventLog()
    record = SessionRecord(session, created_ts, _events=log)
    state.sessions.add(record)
    task = asyncio.get_running_loop().create_task(_run(state, record, log, rng))
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)
    return record


def _apply_status(record: SessionRecord, status: str, now: float) -> None:
    session = record.session
    session["status"] = status
    if status == "in_progress":
        session["started_at"] = iso_seconds(now)
        record.started_epoch = now
    elif status not in ("queued", "ringing"):
        started = record.started_epoch
        session["ended_at"] = iso_seconds(now)
        session["duration_seconds"] = 0 if started is None else round(now - started)


async def _run(
    state: EmulatorState, record: SessionRecord, log: EventLog, rng: random.Random
) -> None:
    session = record.session
    started = {k: session[k] for k in ("direction", "to", "from", "agent_key")}
    outcome = outcome_from_metadata(session["metadata"])
    steps = call_steps(rng, started, outcome, session["metadata"])
    interval = state.limits.step_interval(state.event_interval, rng, len(steps))
    for index, (type_, data) in enumerate(steps):
        await asyncio.sleep(interval if index else 0)
        if type_ == "session.status":
            _apply_status(record, data["status"], time.time())
            state.sessions.status_changed()
        log.append(record.id, type_, data)
    await asyncio.sleep(interval)
    ended = {"status": session["status"], "duration_seconds": session["duration_seconds"]}
    log.append(record.id, "session.ended", ended)


def insert_synthetic(state: EmulatorState, count: int) -> list[str]:
    """``count`` finished synthetic sessions at the head; returns their ids."""
    ids = []
    for _ in range(count):
        state.call_counter += 1
        h = mix64(mix64(state.seed) ^ (state.call_counter | 1 << 62))
        session_id, created_ts = state.sessions.new_id()
        session = describe(h, session_id, created_ts, state.tenant_id)
        record = SessionRecord(session, created_ts, _finished_log_factory(h, session, created_ts))
        state.sessions.add(record)
        ids.append(session_id)
    return ids


def _finished_log_factory(
    h: int, session: dict[str, Any], created_ts: int
) -> Callable[[], EventSource]:
    return lambda: FrameList(finished_frames(h, session, created_ts))


def add_event_session(state: EmulatorState, n_events: int, status: str) -> str:
    """A finished session whose log has ``n_events`` events computed on demand."""
    if n_events < 1:
        raise ValueError("n_events must be >= 1")
    session_id, created_ts = state.sessions.new_id()
    session: dict[str, Any] = {
        "id": session_id,
        "tenant_id": state.tenant_id,
        "status": status,
        "direction": "outbound",
        "to": "+15555550123",
        "from": "+15555550100",
        "agent_key": "support_primary",
        "created_at": iso_seconds(created_ts),
        "started_at": iso_seconds(created_ts),
        "ended_at": iso_seconds(created_ts + max(1, n_events // 1000)),
        "duration_seconds": max(1, n_events // 1000),
        "call_sid": _call_sid(_call_rng(state)),
        "metadata": {"emulator_events": n_events},
    }
    started = {k: session[k] for k in ("direction", "to", "from", "agent_key")}
    ended = {"status": status, "duration_seconds": session["duration_seconds"]}
    log = SyntheticLog(session_id, n_events, created_ts * 1000, started, ended)
    state.sessions.add(SessionRecord(session, created_ts, _events=log))
    return session_id
