"""Voice sessions: get one, get a page, iterate all, follow live events."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import _validate as check
from .._config import Timeout
from .._convert import structure_page
from .._errors import APIResponseValidationError
from .._models import Direction, SessionPage, SessionStatus, VoiceSession
from .._paths import SESSIONS_PATH, SessionFilters, session_path
from .._raw import Operation, RawNamespace, Resource, Result, model_result, raw
from .._response import Response, masked_decode_error

if TYPE_CHECKING:
    from .._events import EventStream, EventStreamOptions
    from .._events_watch import SessionWatch
    from .._pagination import Checkpoint, SessionIterator

__all__ = [
    "SESSIONS_PATH",
    "SESSION_PATH",
    "SessionFilters",
    "SessionsResource",
    "SessionsWithRawResponse",
    "session_path",
]

#: The template hooks and traces see: the id is a path parameter.
SESSION_PATH = SESSIONS_PATH + "/{session_id}"
_SESSION = model_result(VoiceSession)


def _page_result(limit: int, offset: int) -> Result[SessionPage]:
    """Decodes a page answered to ``limit``/``offset``; a mismatch is masked like ``parse``'s."""

    def result(response: Response, secrets: tuple[str, ...]) -> SessionPage:
        try:
            return structure_page(response.data, limit=limit, offset=offset)
        except APIResponseValidationError as exc:
            error = masked_decode_error(response, exc, "SessionPage", secrets, keep_excerpt=True)
        raise error  # outside the ``except``: the unmasked original is not its context

    return result


def page_operation(
    filters: SessionFilters,
    *,
    limit: int,
    offset: int,
    timeout: float | Timeout | None,
    extra_headers: Mapping[str, str] | None,
) -> Operation[SessionPage]:
    """``GET /api/v1/voice-sessions``: what :meth:`~SessionsResource.list` runs and
    each page of :meth:`~SessionsResource.iter` sends (one description, so they
    cannot drift: same span name, hooks, headers)."""
    params: dict[str, str | int] = {
        "limit": check.limit(limit),
        "offset": check.offset(offset),
        **filters.params(),
    }
    return Operation(
        "sessions.list",
        "GET",
        SESSIONS_PATH,
        "tenant",
        _page_result(limit, offset),
        params=params,
        timeout=timeout,
        extra_headers=extra_headers,
    )


class SessionsResource(Resource):
    @property
    def with_raw_response(self) -> SessionsWithRawResponse:
        """The same methods, returning :class:`RawResponse` (status, headers, request id)."""
        return SessionsWithRawResponse(self)

    async def get(
        self,
        session_id: str,
        *,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> VoiceSession:
        """One session by id; :class:`NotFoundError` if there is none."""
        return await self._run(
            Operation(
                "sessions.get",
                "GET",
                SESSION_PATH,
                "tenant",
                _SESSION,
                path_params={"session_id": check.path_id("session_id", session_id)},
                timeout=timeout,
                extra_headers=extra_headers,
            )
        )

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
        extra_headers: Mapping[str, str] | None = None,
    ) -> SessionPage:
        """One page of sessions, newest first.  See :meth:`iter` for all of them."""
        filters = SessionFilters(status, direction, agent_key, created_after, created_before)
        return await self._run(
            page_operation(
                filters, limit=limit, offset=offset, timeout=timeout, extra_headers=extra_headers
            )
        )

    async def fetch_page(
        self,
        filters: SessionFilters,
        *,
        limit: int,
        offset: int,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> SessionPage:
        """:meth:`list` with its filters as one :class:`SessionFilters` value."""
        return await self._run(
            page_operation(
                filters, limit=limit, offset=offset, timeout=timeout, extra_headers=extra_headers
            )
        )

    async def _request_page(
        self,
        filters: SessionFilters,
        *,
        limit: int,
        offset: int,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any:
        """What :meth:`iter` fetches a page with: the decoded JSON, not yet a model.

        Kept apart from the typed decode so the paginator can send the next
        request as soon as an answer arrives and decode it meanwhile.
        """
        operation = page_operation(
            filters, limit=limit, offset=offset, timeout=timeout, extra_headers=extra_headers
        )
        return (await self._transport.execute(operation)).data

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
        extra_headers: Mapping[str, str] | None = None,
    ) -> SessionIterator:
        """Every session matching the filters, newest first, each id at most once.

        ``async for s in client.sessions.iter():`` (or ``async with`` it to stop
        early cleanly; ``.pages()`` for page-wise work).  ``limit`` is the page
        size (as in :meth:`list`), ``max_items`` caps the sessions yielded;
        ``prefetch`` requests the next page while you work on this one;
        ``concurrency=N`` keeps N pages in flight when the server reports
        ``total``; ``timeout`` and ``extra_headers`` apply to each page request.  Resume a crashed
        run with ``start_offset=it.offset`` or, exactly,
        ``resume=it.checkpoint()`` (same filters).  Validation errors are
        raised here, before anything is sent.  Details and guarantees:
        ``voice_async/_pagination_core.py``.
        """
        from .._pagination import SessionIterator

        filters = SessionFilters(status, direction, agent_key, created_after, created_before)
        if timeout is not None:
            check.timeout(timeout)  # a bad timeout fails here, not at the first page
        if extra_headers is not None:
            extra_headers = check.headers("extra_headers", extra_headers)

        def fetch(filters: SessionFilters, *, limit: int, offset: int) -> Awaitable[Any]:
            return self._request_page(
                filters, limit=limit, offset=offset, timeout=timeout, extra_headers=extra_headers
            )

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


class SessionsWithRawResponse(RawNamespace):
    """``client.sessions.with_raw_response``."""

    get = raw(SessionsResource.get)
    list = raw(SessionsResource.list)
