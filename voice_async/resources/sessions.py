"""Voice sessions: get one, get a page, iterate all, follow live events."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import _validate as check
from .._config import Timeout
from .._convert import structure, structure_page
from .._models import Direction, SessionPage, SessionStatus, VoiceSession
from .._paths import SESSIONS_PATH, SessionFilters, session_path
from .._transport import Transport

if TYPE_CHECKING:
    from .._events import EventStream, EventStreamOptions
    from .._events_watch import SessionWatch
    from .._pagination import Checkpoint, SessionIterator

__all__ = ["SESSIONS_PATH", "SessionFilters", "SessionsResource", "session_path"]


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
        timeout: float | Timeout | None = None,
    ) -> SessionIterator:
        """Every session matching the filters, newest first, each id at most once.

        ``async for s in client.sessions.iter():`` (or ``async with`` it to stop
        early cleanly; ``.pages()`` for page-wise work).  ``limit`` is the page
        size (as in :meth:`list`), ``max_items`` caps the sessions yielded;
        ``prefetch`` requests the next page while you work on this one;
        ``concurrency=N`` keeps N pages in flight when the server reports
        ``total``; ``timeout`` applies to each page request.  Resume a crashed
        run with ``start_offset=it.offset`` or, exactly,
        ``resume=it.checkpoint()`` (same filters).  Validation errors are
        raised here, before anything is sent.  Details and guarantees:
        ``voice_async/_pagination_core.py``.
        """
        from .._pagination import SessionIterator

        filters = SessionFilters(status, direction, agent_key, created_after, created_before)
        if timeout is not None:
            check.timeout(timeout)  # a bad timeout fails here, not at the first page

        def fetch(filters: SessionFilters, *, limit: int, offset: int) -> Awaitable[Any]:
            return self._request_page(filters, limit=limit, offset=offset, timeout=timeout)

        return SessionIterator(
            fetch,
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
        timeout: float | Timeout | None = None,
        options: EventStreamOptions | None = None,
    ) -> EventStream:
        """Live events of one session: ``async for event in client.sessions.events(id)``.

        Also ``async with client.sessions.events(id) as stream: async for ...``.
        Each event is delivered once and in order through reconnects; resume
        later with ``after_seq=stream.last_seq``.  ``timeout`` bounds each
        handshake (default: the client's ``Timeout.connect``); keepalive,
        reconnect and buffering settings are one
        :class:`~voice_async.EventStreamOptions` value.
        """
        from .._events import EventStream

        return EventStream(
            self._transport, session_id, after_seq=after_seq, timeout=timeout, options=options
        )

    def watch(
        self,
        *session_ids: str,
        after_seq: dict[str, int] | None = None,
        max_pending: int = 64,
        timeout: float | Timeout | None = None,
        options: EventStreamOptions | None = None,
    ) -> SessionWatch:
        """Follow several sessions at once: their events merged into one stream.

        ``async with client.sessions.watch(a, b) as watch: async for event in watch``.
        Each session keeps its order and exactly-once delivery; iteration ends
        when all have ended.  ``after_seq`` maps session id to where to resume
        (see ``watch.last_seqs``); ``timeout`` and ``options`` are those of
        :meth:`events`, for every session.
        """
        from .._events_watch import watch_sessions

        return watch_sessions(
            self._transport,
            session_ids,
            after_seq=after_seq,
            max_pending=max_pending,
            timeout=timeout,
            options=options,
        )
