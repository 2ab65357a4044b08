"""In-memory state: sessions, idempotency keys and tenant runtime configs.

Sessions live in two tiers: the *head* (placed, inbound and inserted
sessions, as records) which is always newer than the *seeded* tier (computed
on demand by :class:`._seed.SeededSessions`). The full list, newest first, is
``reversed(head) + seeded``; creation times never go backwards in the head and
head ids strictly increase, so that order is total.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import ApiError
from ._events import EventSource, FrameList
from ._filters import ListQuery, SessionFilter
from ._seed import SeededSessions
from ._util import MonotonicUlid, iso_seconds

_NO_FILTER = SessionFilter()
_MATCH_CACHE_SIZE = 32

#: Defaults of a tenant runtime config (version 1).
DEFAULT_RUNTIME_CONFIG: dict[str, Any] = {
    "model": "gpt-realtime",
    "voice": "alloy",
    "system_prompt_key": "support_default",
    "temperature": 0.7,
    "max_call_seconds": 1800,
}


def _no_events() -> EventSource:
    raise LookupError("this record was created with its events source")


@dataclass(slots=True)
class SessionRecord:
    """A head session; ``events`` builds (once) the source behind its WebSocket.

    Slotted, and a live call passes its log as ``_events`` instead of a
    closure: with 100k placed calls every per-record byte counts.
    """

    session: dict[str, Any]
    created_ts: int
    events_factory: Callable[[], EventSource] = _no_events
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


@dataclass(slots=True)
class _HeadMatches:
    """Head positions (oldest first) passing one filter, as of ``status_version``."""

    status_version: int
    scanned: int
    positions: array[int]


class SessionStore:
    """Head records plus the seeded tier, and the one list order over both.

    Pages cost O(limit) without filters however many calls were placed. A
    filtered page needs the matching head positions: they are cached per
    filter, extended incrementally as calls are added, and rebuilt only after
    a status changed (``status_changed``), so repeated pages of the same
    filter do not rescan 100k records.
    """

    def __init__(self, seeded: SeededSessions, anchor: int, rng: random.Random) -> None:
        self.seeded = seeded
        self._head: list[SessionRecord] = []
        self._by_id: dict[str, SessionRecord] = {}
        self._by_call_sid: dict[str, SessionRecord] = {}
        self._ids = MonotonicUlid(rng)
        self._last_ts = anchor
        self._status_version = 0
        self._matches: OrderedDict[SessionFilter, _HeadMatches] = OrderedDict()

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

    def status_changed(self) -> None:
        """A head session's status moved: cached filtered positions are stale."""
        self._status_version += 1

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
        """One page, newest first; touches only the rows it returns (plus, for a
        filter, the head records added or changed since the last such page)."""
        flt = query.filter
        positions: Sequence[int] = (
            range(len(self._head)) if flt == _NO_FILTER else self._head_matches(flt)
        )
        n_head = len(positions)
        start, stop = query.offset, query.offset + query.limit
        head = self._head
        data = [head[positions[n_head - 1 - i]].session for i in range(start, min(stop, n_head))]
        seeded = self.seeded.matching(flt)
        if len(data) < query.limit:
            first = max(0, start - n_head)
            last = first + query.limit - len(data)
            data.extend(self.seeded.session(i) for i in seeded[first:last])
        return Page(data, n_head + len(seeded))

    def _head_matches(self, flt: SessionFilter) -> array[int]:
        cached = self._matches.get(flt)
        if cached is None or cached.status_version != self._status_version:
            cached = _HeadMatches(self._status_version, 0, array("q"))
        for position in range(cached.scanned, len(self._head)):
            record = self._head[position]
            if flt.matches(record.session, record.created_ts):
                cached.positions.append(position)
        cached.scanned = len(self._head)
        self._matches[flt] = cached
        self._matches.move_to_end(flt)
        if len(self._matches) > _MATCH_CACHE_SIZE:
            self._matches.popitem(last=False)
        return cached.positions

    @property
    def total(self) -> int:
        return len(self._head) + len(self.seeded)


def canonical_json(value: Any) -> str:
    """Key order and whitespace do not make two bodies different."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(value: Any) -> bytes:
    """A short digest of the canonical body (what a key is compared on)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8", "surrogatepass")).digest()


@dataclass(slots=True)
class IdempotencyEntry:
    fingerprint: bytes
    done_at: float = 0.0
    status: int = 0
    body: bytes = b""


#: How long a finished ``Idempotency-Key`` is remembered (the contract's minimum).
IDEMPOTENCY_RETENTION = 24 * 3600.0
#: At most this many finished keys are remembered; the oldest go first.
IDEMPOTENCY_CAPACITY = 100_000


class IdempotencyStore:
    """``Idempotency-Key`` -> the first answer, bounded in time and number.

    Retention: a finished key is remembered for ``retention`` seconds (24 h,
    as the contract promises) and at most ``capacity`` finished keys are kept;
    past that the oldest are forgotten first, so an emulator that placed
    millions of calls holds a bounded store (~0.6 KB per key). Keys still in
    progress are kept apart and never forgotten: they are as many as the
    requests in flight.
    """

    def __init__(
        self,
        retention: float = IDEMPOTENCY_RETENTION,
        capacity: int = IDEMPOTENCY_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pending: dict[str, IdempotencyEntry] = {}
        self._done: OrderedDict[str, IdempotencyEntry] = OrderedDict()  # oldest first
        self._retention = retention
        self._capacity = capacity
        self._clock = clock

    def __len__(self) -> int:
        return len(self._pending) + len(self._done)

    def begin(self, key: str, body: Any) -> IdempotencyEntry | None:
        """Register ``key`` as in progress, or return the finished entry to replay.

        A different body wins over "in progress": reusing a key for another
        call is a caller bug (409 ``idempotency_conflict``, final), while the
        same call still running is worth a retry (409 ``idempotency_in_progress``).
        """
        self._expire()
        digest = fingerprint(body)
        entry = self._done.get(key) or self._pending.get(key)
        if entry is None:
            self._pending[key] = IdempotencyEntry(digest)
            return None
        if entry.fingerprint != digest:
            raise ApiError(
                409,
                "Idempotency-Key was already used with a different request body",
                param="Idempotency-Key",
                type="idempotency_conflict",
            )
        if key in self._pending:
            raise ApiError(
                409,
                "a request with this Idempotency-Key is still being processed; retry later",
                param="Idempotency-Key",
                type="idempotency_in_progress",
            )
        return entry

    def complete(self, key: str, status: int, body: bytes) -> None:
        entry = self._pending.pop(key)
        entry.done_at, entry.status, entry.body = self._clock(), status, body
        self._done[key] = entry
        self._expire()

    def abandon(self, key: str) -> None:
        """Forget an in-progress key whose request produced no call."""
        self._pending.pop(key, None)

    def _expire(self) -> None:
        done = self._done
        while len(done) > self._capacity:
            done.popitem(last=False)
        horizon = self._clock() - self._retention
        while done and next(iter(done.values())).done_at < horizon:
            done.popitem(last=False)


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
