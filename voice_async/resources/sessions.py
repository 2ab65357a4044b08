"""Voice sessions: get one, get a page, iterate all, follow live events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .. import _validate as check
from .._config import Timeout
from .._convert import structure, structure_page
from .._models import Direction, SessionPage, SessionStatus, VoiceSession
from .._transport import Transport

if TYPE_CHECKING:
    from .._events import EventStream
    from .._events_watch import SessionWatch
    from .._pagination import Checkpoint, SessionIterator

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
        """One typed page: :meth:`_request_page`, then ``structure_page``."""
        payload = await self._request_page(filters, limit=limit, offset=offset, timeout=timeout)
        return structure_page(payload, limit=limit, offset=offset)

    async def _request_page(
        self,
        filters: SessionFilters,
        *,
        limit: int,
        offset: int,
        timeout: float | Timeout | None = None,
    ) -> Any:
        """The single code path that requests a page; returns the decoded JSON.

        Kept apart from the typed decode so the paginator can send the next
        request as soon as an answer arrives and decode it meanwhile.
        """
        params: dict[str, str | int] = {
            "limit": check.limit(limit),
            "offset": check.offset(offset),
            **filters.params(),
        }
        response = await self._transport.request(
            "GET", SESSIONS_PATH, auth="tenant", params=params, timeout=timeout
        )
        return response.data

    def iter(
        self,
        *,
        limit: int = 100,
        max_items: int | None = None,
        start_offset: int = 0,
        concurrency: int = 1,
        prefetch: bool = True,
        resume: Checkpoint | None = None,
        status: SessionStatus | str | None = None,
        direction: Direction | str | None = None,
        agent_key: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
    ) -> SessionIterator:
        """Every session matching the filters, newest first, each id at most once.

        ``async for s in client.sessions.iter():`` (or ``async with`` it to stop
        early cleanly; ``.pages()`` for page-wise work).  ``limit`` caps the
        sessions yielded; ``prefetch`` requests the next page while you work on
        this one; ``concurrency=N`` keeps N pages in flight when the server
        reports ``total``.  Resume a crashed run with ``start_offset=it.offset``
        or, exactly, ``resume=it.checkpoint()`` (same filters).  Validation
        errors are raised here, before anything is sent.  Details and
        guarantees: ``voice_async/_pagination.py``.
        """
        from .._pagination import SessionIterator

        filters = SessionFilters(status, direction, agent_key, created_after, created_before)
        return SessionIterator(
            self,
            filters,
            limit=limit,
            max_items=max_items,
            start_offset=start_offset,
            concurrency=concurrency,
            prefetch=prefetch,
            resume=resume,
        )

    def events(
        self,
        session_id: str,
        *,
        after_seq: int = 0,
        allow_initial_gap: bool = False,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float | None = 10.0,
        close_timeout: float | None = 5.0,
        max_reconnects: int = 10,
        initial_backoff: float = 0.5,
        max_backoff: float = 10.0,
        healthy_after: float = 10.0,
        max_queue: int = 16,
        max_size: int = 2**20,
        compression: bool = False,
    ) -> EventStream:
        """Live events of one session: ``async for event in client.sessions.events(id)``.

        Also ``async with client.sessions.events(id) as stream: async for ...``.
        Each event is delivered once and in order through reconnects; resume
        later with ``after_seq=stream.last_seq``.  The options are described
        on :class:`~voice_async._events.EventStream` (same defaults).
        """
        from .._events import EventStream

        return EventStream(
            self._transport,
            session_id,
            after_seq=after_seq,
            allow_initial_gap=allow_initial_gap,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            max_reconnects=max_reconnects,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            healthy_after=healthy_after,
            max_queue=max_queue,
            max_size=max_size,
            compression=compression,
        )

    def watch(
        self,
        *session_ids: str,
        after_seq: dict[str, int] | None = None,
        max_pending: int = 64,
        **options: object,
    ) -> SessionWatch:
        """Follow several sessions at once: their events merged into one stream.

        ``async with client.sessions.watch(a, b) as watch: async for event in watch``.
        Each session keeps its order and exactly-once delivery; iteration ends
        when all have ended.  ``after_seq`` maps session id to where to resume
        (see ``watch.last_seqs``); ``options`` are those of :meth:`events`.
        """
        from .._events_watch import watch_sessions

        return watch_sessions(
            self._transport,
            session_ids,
            after_seq=after_seq,
            max_pending=max_pending,
            **options,
        )
