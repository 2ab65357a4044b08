"""Synthetic past sessions, computed from ``(seed, index)`` instead of stored.

``Emulator(sessions=N)`` must start in well under a second for N = 100k (and
work for 1M), so nothing is generated up front: session ``i`` is a pure
function of a 64-bit hash of ``(seed, i)``. Index 0 is the newest; creation
times fall strictly with the index (one per minute with under a minute of
jitter), so the list order is the index order and a page without filters costs
O(limit). An id encodes its creation time, which lets ``index_of`` find a
seeded session from its id in O(1).
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from ._events import frame
from ._filters import SessionFilter
from ._script import call_steps
from ._util import iso_seconds, mix64, ulid_from_parts, ulid_timestamp_ms

#: Final status by ``hash % 100``: mostly completed, some unhappy endings.
_STATUS_TABLE: tuple[str, ...] = tuple(
    "completed"
    if r < 72 or r >= 96
    else "no_answer"
    if r < 80
    else "failed"
    if r < 86
    else "busy"
    if r < 91
    else "canceled"
    for r in range(100)
)
_OUTBOUND_AGENTS = ("support_primary", "sales_outbound", "billing_followup", "appointments")
INBOUND_AGENT = "inbound_default"
_SPACING = 60  # seconds between consecutive seeded sessions (jitter stays below it)
_LONGEST_CALL = 920  # seconds from creation to end, at most: seeded calls end before anchor
_CACHE_SIZE = 32


def status_of(h: int) -> str:
    return _STATUS_TABLE[h % 100]


def direction_of(h: int) -> str:
    return "inbound" if (h >> 7) % 10 < 3 else "outbound"


def agent_key_of(h: int) -> str:
    if direction_of(h) == "inbound":
        return INBOUND_AGENT
    return _OUTBOUND_AGENTS[(h >> 11) % len(_OUTBOUND_AGENTS)]


def describe(h: int, session_id: str, created_ts: int, tenant_id: str) -> dict[str, Any]:
    """The VoiceSession of a finished synthetic call (pure function of ``h``)."""
    status, direction = status_of(h), direction_of(h)
    customer = f"+1555{(h >> 20) % 10_000_000:07d}"
    business = f"+1555555{100 + (h >> 34) % 10:04d}"
    to, from_ = (business, customer) if direction == "inbound" else (customer, business)
    started = ended = None
    duration = 0
    if status == "completed":
        start_ts = created_ts + 2 + (h >> 46) % 8
        duration = 15 + (h >> 50) % 885
        started, ended = iso_seconds(start_ts), iso_seconds(start_ts + duration)
    else:
        ended = iso_seconds(created_ts + 5 + (h >> 46) % 25)
    metadata: dict[str, Any] = {}
    if (h >> 60) % 3 == 0:
        metadata["order_id"] = f"A-{1000 + (h >> 20) % 9000}"
    return {
        "id": session_id,
        "tenant_id": tenant_id,
        "status": status,
        "direction": direction,
        "to": to,
        "from": from_,
        "agent_key": agent_key_of(h),
        "created_at": iso_seconds(created_ts),
        "started_at": started,
        "ended_at": ended,
        "duration_seconds": duration,
        "call_sid": f"CA{mix64(h ^ 1):016x}{mix64(h ^ 2):016x}",
        "metadata": metadata,
    }


def finished_frames(h: int, session: dict[str, Any], created_ts: int) -> list[str]:
    """The complete event log of a finished synthetic call, timestamps included."""
    started = {
        "direction": session["direction"],
        "to": session["to"],
        "from": session["from"],
        "agent_key": session["agent_key"],
    }
    steps = call_steps(random.Random(h), started, session["status"], session["metadata"])
    ended = {"status": session["status"], "duration_seconds": session["duration_seconds"]}
    steps.append(("session.ended", ended))
    span_ms = (10 + int(session["duration_seconds"])) * 1000
    step_ms = span_ms // len(steps)
    sid = session["id"]
    return [
        frame(type_, sid, seq, created_ts * 1000 + seq * step_ms, data)
        for seq, (type_, data) in enumerate(steps, start=1)
    ]


def _first_true(lo: int, hi: int, predicate: Callable[[int], bool]) -> int:
    """Smallest i in [lo, hi) with predicate(i), for a predicate monotone in i."""
    while lo < hi:
        mid = (lo + hi) // 2
        if predicate(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


class SeededSessions:
    """``count`` past sessions, all ended before ``anchor`` (index 0 is the newest)."""

    def __init__(self, count: int, seed: int, anchor: int, tenant_id: str) -> None:
        if count < 0:
            raise ValueError("sessions must be >= 0")
        self._count = count
        self._key = mix64(seed ^ 0x5EED_5EED)
        self._newest = anchor - _LONGEST_CALL
        self._tenant_id = tenant_id
        self._matches: OrderedDict[tuple[str | None, ...], array[int]] = OrderedDict()

    def __len__(self) -> int:
        return self._count

    def hash(self, index: int) -> int:
        return mix64(self._key ^ index)

    def created_ts(self, index: int) -> int:
        return self._created_ts(index, self.hash(index))

    def _created_ts(self, index: int, h: int) -> int:
        return self._newest - _SPACING * (index + 1) - (h >> 40) % 45

    def session_id(self, index: int) -> str:
        h = self.hash(index)
        return self._session_id(h, self._created_ts(index, h))

    @staticmethod
    def _session_id(h: int, created_ts: int) -> str:
        millis = created_ts * 1000 + (h >> 54) % 1000
        return "vs_" + ulid_from_parts(millis, (mix64(h ^ 3) << 16) ^ mix64(h ^ 4))

    def session(self, index: int) -> dict[str, Any]:
        # The hash is computed once per session: list pages make this hot.
        h = self.hash(index)
        created = self._created_ts(index, h)
        return describe(h, self._session_id(h, created), created, self._tenant_id)

    def frames(self, index: int) -> list[str]:
        return finished_frames(self.hash(index), self.session(index), self.created_ts(index))

    def index_of(self, session_id: str) -> int | None:
        """O(1): the id's timestamp pins the index (spacing > jitter)."""
        millis = ulid_timestamp_ms(session_id[3:]) if session_id.startswith("vs_") else None
        if millis is None:
            return None
        index = (self._newest - millis // 1000) // _SPACING - 1
        if 0 <= index < self._count and self.session_id(index) == session_id:
            return index
        return None

    def matching(self, flt: SessionFilter) -> Sequence[int]:
        """Indices (ascending = newest first) of the sessions that pass ``flt``."""
        lo, hi = self._time_range(flt)
        if not flt.has_attribute_filter:
            return range(lo, hi)
        indices = self._attribute_matches(flt)
        return indices[bisect_left(indices, lo) : bisect_left(indices, hi)]

    def _time_range(self, flt: SessionFilter) -> tuple[int, int]:
        lo, hi = 0, self._count
        before, after = flt.created_before, flt.created_after
        if before is not None:
            lo = _first_true(0, self._count, lambda i: self.created_ts(i) < before)
        if after is not None:
            hi = _first_true(0, self._count, lambda i: not self.created_ts(i) > after)
        return lo, max(lo, hi)

    def _attribute_matches(self, flt: SessionFilter) -> array[int]:
        """Scan once per distinct attribute filter; cache a few results (LRU)."""
        key = (flt.status, flt.direction, flt.agent_key)
        cached = self._matches.get(key)
        if cached is not None:
            self._matches.move_to_end(key)
            return cached
        found: array[int] = array("q")
        for index in range(self._count):
            h = mix64(self._key ^ index)
            if flt.attributes_match(status_of(h), direction_of(h), agent_key_of(h)):
                found.append(index)
        self._matches[key] = found
        if len(self._matches) > _CACHE_SIZE:
            self._matches.popitem(last=False)
        return found
