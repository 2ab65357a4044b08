"""Voice sessions: get one, get a page, iterate all, follow live events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from .. import _validate as check
from .._config import Timeout
from .._convert import structure, structure_page
from .._models import Direction, SessionPage, SessionStatus, VoiceSession
from .._transport import Transport

if TYPE_CHECKING:
    from .._events import EventStream
    from .._pagination import SessionIterator

SESSIONS_PATH = "/api/v1/voice-sessions"


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


def session_path(session_id: str) -> str:
    return f"{SESSIONS_PATH}/{check.path_id('session_id', session_id)}"


class SessionsResource:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def get(self, session_id: str, *, timeout: float | Timeout | None = None) -> VoiceSession:
        """One session by id; :class:`NotFoundError` if there is none."""
        response = await self._transport.request(
            "GET", session_path(session_id), auth="tenant", timeout=timeout
        )
        return structure(response.data, VoiceSession)

    async def list(
        self,
        *,
        limit: int = 25,
        offset: int = 0,
        status: SessionStatus | str | None = None,
        direction: Direction | str | None = None,
        agent_key: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        timeout: float | Timeout | None = None,
    ) -> SessionPage:
        """One page of sessions, newest first.  See :meth:`iter` for all of them."""
        filters = SessionFilters(status, direction, agent_key, created_after, created_before)
        return await self.fetch_page(filters, limit=limit, offset=offset, timeout=timeout)

    async def fetch_page(
        self,
        filters: SessionFilters,
        *,
        limit: int,
        offset: int,
        timeout: float | Timeout | None = None,
    ) -> SessionPage:
        """The single code path that fetches a page (used by ``list`` and ``iter``)."""
        params: dict[str, str | int] = {
            "limit": check.limit(limit),
            "offset": check.offset(offset),
            **filters.params(),
        }
        response = await self._transport.request(
            "GET", SESSIONS_PATH, auth="tenant", params=params, timeout=timeout
        )
        return structure_page(response.data, limit=limit, offset=offset)

    def iter(
        self,
        *,
        page_size: int = 100,
        limit: int | None = None,
        start_offset: int = 0,
        concurrency: int = 1,
        status: SessionStatus | str | None = None,
        direction: Direction | str | None = None,
        agent_key: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
    ) -> SessionIterator:
        """Every session matching the filters, newest first: ``async for s in ...``.

        OWNED BY THE PAGINATION WORK: see ``voice_async/_pagination.py``.
        """
        from .._pagination import SessionIterator

        filters = SessionFilters(status, direction, agent_key, created_after, created_before)
        return SessionIterator(
            self,
            filters,
            page_size=page_size,
            limit=limit,
            start_offset=start_offset,
            concurrency=concurrency,
        )

    def events(self, session_id: str, *, after_seq: int = 0) -> EventStream:
        """Live events of one session: ``async for event in client.sessions.events(id)``.

        OWNED BY THE EVENTS WORK: see ``voice_async/_events.py``.
        """
        from .._events import EventStream

        return EventStream(self._transport, session_id, after_seq=after_seq)
