"""In-memory state: sessions, idempotency keys and tenant runtime configs.

Sessions live in two tiers: the *head* (placed, inbound and inserted
sessions, as records) which is always newer than the *seeded* tier (computed
on demand by :class:`._seed.SeededSessions`). The full list, newest first, is
``reversed(head) + seeded``; creation times never go backwards in the head and
head ids strictly increase, so that order is total.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._errors import ApiError
from ._events import EventSource, FrameList
from ._filters import ListQuery
from ._seed import SeededSessions
from ._util import MonotonicUlid, iso_seconds

#: Defaults of a tenant runtime config (version 1).
DEFAULT_RUNTIME_CONFIG: dict[str, Any] = {
    "model": "gpt-realtime",
    "voice": "alloy",
    "system_prompt_key": "support_default",
    "temperature": 0.7,
    "max_call_seconds": 1800,
}


@dataclass
class SessionRecord:
    """A head session; ``events`` builds (once) the source behind its WebSocket."""

    session: dict[str, Any]
    created_ts: int
    events_factory: Callable[[], EventSource]
    #: When the simulated call was answered (for ``duration_seconds``).
    started_epoch: float | None = None
    _events: EventSource | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return str(self.session["id"])

    def events(self) -> EventSource:
        if self._events is None:
            self._events = self.events_factory()
        return self._events


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    total: int


class SessionStore:
    def __init__(self, seeded: SeededSessions, anchor: int, rng: random.Random) -> None:
        self.seeded = seeded
        self._head: list[SessionRecord] = []
        self._by_id: dict[str, SessionRecord] = {}
        self._by_call_sid: dict[str, SessionRecord] = {}
        self._ids = MonotonicUlid(rng)
        self._last_ts = anchor

    def new_id(self) -> tuple[str, int]:
        """A fresh id and creation second, never older than the previous one."""
        now = time.time()
        created_ts = max(int(now), self._last_ts)
        self._last_ts = created_ts
        millis = max(int(now * 1000), created_ts * 1000)
        return "vs_" + self._ids.next(millis), created_ts

    def add(self, record: SessionRecord) -> None:
        self._head.append(record)
        self._by_id[record.id] = record
        call_sid = record.session.get("call_sid")
        if isinstance(call_sid, str):
            self._by_call_sid[call_sid] = record

    def record(self, session_id: str) -> SessionRecord | None:
        return self._by_id.get(session_id)

    def by_call_sid(self, call_sid: str) -> SessionRecord | None:
        return self._by_call_sid.get(call_sid)

    def get(self, session_id: str) -> dict[str, Any] | None:
        record = self._by_id.get(session_id)
        if record is not None:
            return record.session
        index = self.seeded.index_of(session_id)
        return None if index is None else self.seeded.session(index)

    def events(self, session_id: str) -> EventSource | None:
        record = self._by_id.get(session_id)
        if record is not None:
            return record.events()
        index = self.seeded.index_of(session_id)
        return None if index is None else FrameList(self.seeded.frames(index))

    def page(self, query: ListQuery) -> Page:
        """One page, newest first; O(limit + head) when there is no filter."""
        flt = query.filter
        head = [r.session for r in reversed(self._head) if flt.matches(r.session, r.created_ts)]
        seeded = self.seeded.matching(flt)
        start, stop = query.offset, query.offset + query.limit
        data = head[start:stop]
        if len(data) < query.limit:
            first = max(0, start - len(head))
            last = first + query.limit - len(data)
            data.extend(self.seeded.session(i) for i in seeded[first:last])
        return Page(data, len(head) + len(seeded))

    @property
    def total(self) -> int:
        return len(self._head) + len(self.seeded)


def canonical_json(value: Any) -> str:
    """Key order and whitespace do not make two bodies different."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class IdempotencyEntry:
    fingerprint: str
    done: bool = False
    status: int = 0
    body: bytes = b""


class IdempotencyStore:
    """``Idempotency-Key`` -> the first answer (kept for the emulator's lifetime)."""

    def __init__(self) -> None:
        self._entries: dict[str, IdempotencyEntry] = {}

    def begin(self, key: str, fingerprint: str) -> IdempotencyEntry | None:
        """Register ``key`` as in progress, or return the finished entry to replay.

        A different body wins over "in progress": reusing a key for another
        call is a caller bug (409 ``idempotency_conflict``, final), while the
        same call still running is worth a retry (409 ``idempotency_in_progress``).
        """
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = IdempotencyEntry(fingerprint)
            return None
        if entry.fingerprint != fingerprint:
            raise ApiError(
                409,
                "Idempotency-Key was already used with a different request body",
                param="Idempotency-Key",
                type="idempotency_conflict",
            )
        if not entry.done:
            raise ApiError(
                409,
                "a request with this Idempotency-Key is still being processed; retry later",
                param="Idempotency-Key",
                type="idempotency_in_progress",
            )
        return entry

    def complete(self, key: str, status: int, body: bytes) -> None:
        entry = self._entries[key]
        entry.done, entry.status, entry.body = True, status, body

    def abandon(self, key: str) -> None:
        """Forget an in-progress key whose request produced no call."""
        entry = self._entries.get(key)
        if entry is not None and not entry.done:
            del self._entries[key]


class RuntimeConfigStore:
    def __init__(self) -> None:
        self._configs: dict[str, dict[str, Any]] = {}

    def add_tenant(self, tenant_id: str) -> dict[str, Any]:
        """Create ``tenant_id`` with the default config at version 1 (idempotent)."""
        if tenant_id not in self._configs:
            self._configs[tenant_id] = {
                "tenant_id": tenant_id,
                **DEFAULT_RUNTIME_CONFIG,
                "version": 1,
                "updated_at": iso_seconds(time.time()),
            }
        return dict(self._configs[tenant_id])

    def get(self, tenant_id: str) -> dict[str, Any] | None:
        config = self._configs.get(tenant_id)
        return None if config is None else dict(config)

    def update(
        self, tenant_id: str, changes: dict[str, Any], if_match: int | None
    ) -> dict[str, Any]:
        config = self._configs[tenant_id]
        if if_match is not None and if_match != config["version"]:
            raise ApiError(
                409,
                f"If-Match version {if_match} is stale; current version is {config['version']}",
                param="If-Match",
                type="version_conflict",
            )
        config.update(changes)
        config["version"] += 1
        config["updated_at"] = iso_seconds(time.time())
        return dict(config)
