"""The API's data as frozen, slotted attrs classes.

Models are values: immutable, comparable, cheap.  They are built only by the
converter in ``_convert`` (conversion at the edges), whose decoders are
generated from these classes' fields, and never talk to the network.  A new
field needs no decoder of its own; a field of a type the generator does not
know fails the import, naming it (see ``_decoders``).  Wire names that are
Python keywords get a trailing underscore (``from`` -> ``from_``).  Fields
the SDK does not know yet are kept in ``extra`` so a newer server never loses
data on its way to the caller, and enum-typed fields keep unknown values as
plain strings for the same reason.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias

import attrs

__all__ = [
    "AgentResponseData",
    "Call",
    "Direction",
    "ErrorData",
    "EventData",
    "EventType",
    "RuntimeConfig",
    "SessionEndedData",
    "SessionEvent",
    "SessionPage",
    "SessionStartedData",
    "SessionStatus",
    "SessionStatusData",
    "ToolCallData",
    "ToolResultData",
    "TranscriptData",
    "VoiceSession",
]


def _mapping_field() -> Any:
    """A JSON-object field: excluded from hashing since dicts cannot hash."""
    return attrs.field(factory=dict, hash=False)


def _extra_field() -> Any:
    """Wire fields this SDK version does not know, kept reachable."""
    return attrs.field(factory=dict, hash=False, repr=False)


class SessionStatus(str, enum.Enum):
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    NO_ANSWER = "no_answer"
    BUSY = "busy"

    def __str__(self) -> str:
        return self.value


class Direction(str, enum.Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"

    def __str__(self) -> str:
        return self.value


class EventType(str, enum.Enum):
    SESSION_STARTED = "session.started"
    SESSION_STATUS = "session.status"
    TRANSCRIPT_PARTIAL = "transcript.partial"
    TRANSCRIPT_FINAL = "transcript.final"
    AGENT_RESPONSE = "agent.response"
    TOOL_CALL = "tool.call"
    TOOL_RESULT = "tool.result"
    SESSION_ENDED = "session.ended"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Call:
    """The answer to ``make_call``: the new session and its call."""

    session_id: str
    status: SessionStatus | str
    to: str
    from_: str
    agent_key: str
    created_at: datetime
    call_sid: str | None = None
    metadata: Mapping[str, Any] = _mapping_field()
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class VoiceSession:
    """One voice session (an inbound or outbound call handled by an agent)."""

    id: str
    status: SessionStatus | str
    direction: Direction | str
    to: str
    from_: str
    agent_key: str
    created_at: datetime
    tenant_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    call_sid: str | None = None
    metadata: Mapping[str, Any] = _mapping_field()
    extra: Mapping[str, Any] = _extra_field()


def next_page_offset(
    count: int, limit: int, offset: int, total: int | None, has_more: bool | None
) -> int | None:
    """Where the page after ``count`` items received at ``offset`` starts; ``None`` at the end.

    ``has_more`` decides when sent, else ``total``, else a full page means more.
    A function of the envelope alone, so a page can be planned from before
    its items are decoded (see ``_convert.RawPage``).
    """
    if not count:
        return None
    received = offset + count
    if has_more is not None:
        more = has_more
    elif total is not None:
        more = received < total
    else:
        more = count >= limit
    return received if more else None


@attrs.frozen
class SessionPage:
    """One page of ``GET /api/v1/voice-sessions``.

    ``total`` and ``has_more`` are ``None`` when the server did not send them
    (the contract allows that); ``next_offset`` is then derived from the page
    being short or full.  It is ``offset + len(data)`` -- what was actually
    received, never ``offset + limit`` -- so a short page cannot make the next
    request skip items.
    """

    data: tuple[VoiceSession, ...]
    limit: int
    offset: int
    total: int | None = None
    has_more: bool | None = None

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, or ``None`` if this is the last one."""
        return next_page_offset(len(self.data), self.limit, self.offset, self.total, self.has_more)

    def __iter__(self) -> Any:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@attrs.frozen
class RuntimeConfig:
    """A tenant's runtime configuration as stored by the service."""

    tenant_id: str
    version: int
    model: str | None = None
    voice: str | None = None
    system_prompt_key: str | None = None
    temperature: float | None = None
    max_call_seconds: int | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = _extra_field()


# --- live events -----------------------------------------------------------


@attrs.frozen
class SessionStartedData:
    direction: Direction | str
    to: str
    from_: str
    agent_key: str
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class SessionStatusData:
    status: SessionStatus | str
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class TranscriptData:
    """``transcript.partial`` and ``transcript.final``; ``role`` is caller or agent."""

    role: str
    text: str
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class AgentResponseData:
    text: str
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class ToolCallData:
    name: str
    arguments: Mapping[str, Any] = _mapping_field()
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class ToolResultData:
    name: str
    result: Mapping[str, Any] = _mapping_field()
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class SessionEndedData:
    status: SessionStatus | str
    duration_seconds: float | None = None
    extra: Mapping[str, Any] = _extra_field()


@attrs.frozen
class ErrorData:
    message: str
    extra: Mapping[str, Any] = _extra_field()


EventData: TypeAlias = (
    SessionStartedData
    | SessionStatusData
    | TranscriptData
    | AgentResponseData
    | ToolCallData
    | ToolResultData
    | SessionEndedData
    | ErrorData
    | Mapping[str, Any]
)


@attrs.frozen
class SessionEvent:
    """One live event of a session.

    ``data`` is the typed payload for the types in the contract, and the raw
    mapping for a type this SDK version does not know (never an exception).
    """

    type: EventType | str
    session_id: str
    seq: int
    ts: datetime
    data: EventData = attrs.field(hash=False)

    @property
    def is_final(self) -> bool:
        """True for ``session.ended``: nothing follows it."""
        return self.type == EventType.SESSION_ENDED
