"""The ``list_sessions`` query, already validated.

``created_after`` and ``created_before`` are *exclusive* bounds compared at
one-second precision (the precision of ``created_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SessionFilter:
    status: str | None = None
    direction: str | None = None
    agent_key: str | None = None
    created_after: float | None = None
    created_before: float | None = None

    @property
    def has_attribute_filter(self) -> bool:
        return any(v is not None for v in (self.status, self.direction, self.agent_key))

    def attributes_match(self, status: str, direction: str, agent_key: str) -> bool:
        return (
            (self.status is None or status == self.status)
            and (self.direction is None or direction == self.direction)
            and (self.agent_key is None or agent_key == self.agent_key)
        )

    def time_matches(self, created_ts: float) -> bool:
        if self.created_after is not None and not created_ts > self.created_after:
            return False
        return self.created_before is None or created_ts < self.created_before

    def matches(self, session: dict[str, Any], created_ts: float) -> bool:
        return self.time_matches(created_ts) and self.attributes_match(
            session["status"], session["direction"], session["agent_key"]
        )


@dataclass(frozen=True)
class ListQuery:
    limit: int = 25
    offset: int = 0
    filter: SessionFilter = SessionFilter()
