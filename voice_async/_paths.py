"""Routes and list filters of the sessions API, shared below ``resources/``.

The resource (``resources/sessions.py``), the paginator and the events stream
all need the session routes and the list filters.  They live here, in a lower
layer, so nothing under ``resources/`` is ever imported by the modules it
builds on (no import cycle).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from . import _validate as check
from ._models import Direction, SessionStatus

__all__ = ["SESSIONS_PATH", "SessionFilters", "session_path"]

SESSIONS_PATH = "/api/v1/voice-sessions"


def session_path(session_id: str) -> str:
    """``/api/v1/voice-sessions/{id}``, the id validated (never a path injection)."""
    return f"{SESSIONS_PATH}/{check.path_id('session_id', session_id)}"


@attrs.frozen
class SessionFilters:
    """The list filters, validated once and turned into query parameters.

    Frozen so a paginator can hold one and never mutate what the caller gave.
    """

    status: SessionStatus | str | None = None
    direction: Direction | str | None = None
    agent_key: str | None = None
    created_after: datetime | str | None = None
    created_before: datetime | str | None = None

    def params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.status is not None:
            out["status"] = check.short_text("status", str(self.status), max_len=64)
        if self.direction is not None:
            out["direction"] = check.short_text("direction", str(self.direction), max_len=64)
        if self.agent_key is not None:
            out["agent_key"] = check.agent_key(self.agent_key)
        if self.created_after is not None:
            out["created_after"] = check.timestamp("created_after", self.created_after)
        if self.created_before is not None:
            out["created_before"] = check.timestamp("created_before", self.created_before)
        return out
