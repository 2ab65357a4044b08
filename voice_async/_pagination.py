"""``client.sessions.iter()``: every session once, in order, fast and memory-flat.

The I/O half: it sends the requests :class:`~._pagination_core.PagePlanner`
plans, awaits them in list order and hands sessions out through the cursor.
Every decision (pin, de-duplication, acceptance, stalls) lives in
:mod:`._pagination_core`, whose docstring states the guarantees.

Speed
    Each answer is split first (``_convert.split_page``: the envelope, cheap)
    and the next requests leave *before* its sessions are decoded (the costly
    part), so decoding overlaps the next round trip.  In concurrent mode a
    new request is sent whenever one is answered, whether or not the consumer
    has reached it, so ``concurrency`` requests stay at the server.

Memory and cancellation
    At most ``concurrency`` pages in flight and as many answered ones waiting
    for their turn, plus the page being consumed.  ``aclose()`` / ``async
    with`` (preferred) cancel and await every request in flight at once, as
    does cancelling the consumer; ``aclose()`` from another task ends the
    consumer's loop cleanly.  A bare ``async for ... break`` is handled
    without ``__del__``: ``__aiter__`` returns an async generator whose
    ``finally`` (run by the loop's async-generator finalizer) cancels the
    requests in flight -- a *pause*, not a close: iterating again continues
    exactly where the loop stopped.

Failures
    Each page goes through the client's retry policy.  A page that still
    fails raises from the iterator at the point where its items would have
    been yielded; nothing is skipped, and :attr:`SessionIterator.offset` /
    :meth:`SessionIterator.checkpoint` say exactly where to resume.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Literal, Protocol

import attrs

from . import _validate as check
from ._aio import AsyncClosing, drain
from ._convert import RawPage, decode_page, split_page
from ._errors import InvalidRequestError
from ._models import SessionPage, VoiceSession
from ._pagination_core import (
    MAX_CONCURRENCY,
    Answer,
    Checkpoint,
    Cursor,
    PagePlanner,
    ProgressGuard,
    Window,
    check_order,
    pin_bound,
    shown,
)
from ._paths import SessionFilters

__all__ = ["Checkpoint", "PageFetcher", "SessionIterator", "SessionPageIterator"]

logger = logging.getLogger("voice_async")


class PageFetcher(Protocol):
    """Requests one page and returns its decoded JSON (``SessionsResource._request_page``)."""

    def __call__(self, filters: SessionFilters, *, limit: int, offset: int) -> Awaitable[Any]: ...


class _Flight:
    """A planned window and the task requesting it."""

    __slots__ = ("task", "window")

    def __init__(self, window: Window, task: asyncio.Task[Any]) -> None:
        self.window = window
        self.task = task


def _positive(name: str, value: object, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise InvalidRequestError(name, f"must be an int from 1 to {upper}, got {value!r}")
    return value


def _decoded(raw: RawPage) -> SessionPage:
    page = decode_page(raw)
    check_order(page)
    return page


class SessionIterator(AsyncClosing):
    """``async for session in client.sessions.iter(...)`` -- see the module docstring.

    Progress for a CLI: :attr:`total` (known after the first page when the
    server sends it), :attr:`offset` (the position to resume from),
    :attr:`yielded`, and :meth:`checkpoint`.  Page-wise: ``async for page in
    iterator.pages()``.  Use ``async with`` (or ``aclose()``) to stop early.
    ``limit`` is the page size, ``max_items`` caps the sessions yielded.
    """

    def __init__(
        self,
        fetch: PageFetcher,
        filters: SessionFilters,
        *,
        limit: int = 100,
        max_items: int | None = None,
        start_offset: int = 0,
        concurrency: int = 1,
        prefetch: bool = True,
        resume: Checkpoint | None = None,
    ) -> None:
        page_size = check.limit(limit, "limit")
        self._left = None if max_items is None else check.offset(max_items, "max_items")
        concurrency = _positive("concurrency", concurrency, MAX_CONCURRENCY)
        filters.params()  # validate now, not at the first request
        self._fetch = fetch
        self._user_filters = self._filters = filters
        check.offset(start_offset, "start_offset")
        self._pin_pending = True
        self._cursor = Cursor()
        if resume is not None:
            if start_offset:
                raise InvalidRequestError("start_offset", "give either start_offset or resume")
            start_offset = self._resume_from(resume)
        self._offset = start_offset
        self._plan = PagePlanner(
            page_size=page_size,
            concurrency=concurrency,
            prefetch=bool(prefetch),
            offset=start_offset,
        )
        self._guard = ProgressGuard(start_offset)
        self._flights: deque[_Flight] = deque()
        self._in_flight = 0
        self._page_limit = page_size
        self._buffer: deque[VoiceSession] = deque()
        self._closed = False
        self._mode: Literal["items", "pages"] | None = None
        self.yielded = 0
        self.duplicates_skipped = 0
        self.resyncs = 0

    def _resume_from(self, checkpoint: Checkpoint) -> int:
        """Restore the pin and the cursor of a checkpoint; returns its offset."""
        self._cursor = Cursor(checkpoint.cursor_created_at, checkpoint.cursor_ids)
        if checkpoint.created_before is not None:
            pinned = checkpoint.created_before
            self._filters = attrs.evolve(self._user_filters, created_before=pinned)
            self._pin_pending = False
        return checkpoint.offset

    # -- progress and resumption -------------------------------------------

    @property
    def total(self) -> int | None:
        """Sessions in the (pinned) list per the latest page; ``None`` if not sent."""
        return self._plan.total

    @property
    def offset(self) -> int:
        """List position of the next session not yet yielded (resume point)."""
        return self._offset

    @property
    def pages_fetched(self) -> int:
        return self._plan.pages_accepted

    @property
    def created_before(self) -> str | None:
        """The ``created_before`` sent with the requests (the snapshot pin)."""
        return self._filters.params().get("created_before")

    def checkpoint(self) -> Checkpoint:
        """A resumable position; pass it back as ``iter(resume=...)``."""
        return Checkpoint(
            offset=self._offset,
            created_before=self.created_before,
            cursor_created_at=self._cursor.at,
            cursor_ids=() if self._cursor.id is None else (self._cursor.id,),
        )

    # -- item iteration ------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[VoiceSession]:
        """An async generator over :meth:`__anext__` that pauses the iterator when left.

        Leaving ``async for`` early (``break``) cancels the requests in flight
        once the loop finalizes the generator (a loop iteration or two later).
        Nothing else is lost: iterating again continues exactly where the loop
        stopped, re-requesting what was cancelled.
        """
        self._claim("items")
        return drain(self.__anext__, self._cancel_flights, self._ready)

    def _ready(self) -> VoiceSession | None:
        """A buffered session when nothing else is due: ``async for``'s fast path."""
        return self._pop_new() if self._left is None and not self._closed else None

    async def __anext__(self) -> VoiceSession:
        self._claim("items")
        while True:
            if self._closed or self._left == 0:
                await self.aclose()
                raise StopAsyncIteration
            session = self._pop_new()
            if session is not None:
                if self._left is not None:
                    self._left -= 1
                return session
            if not await self._fill():
                raise StopAsyncIteration

    def pages(self) -> SessionPageIterator:
        """Page-wise view: each page holds the not-yet-yielded sessions of one fetch.

        A yielded page's ``next_offset`` is the resume position after it.
        Use either this or item iteration on one iterator, not both.
        """
        return SessionPageIterator(self)

    async def _next_batch(self) -> SessionPage:
        self._claim("pages")
        while True:
            if self._closed or self._left == 0:
                await self.aclose()
                raise StopAsyncIteration
            if not self._buffer and not await self._fill():
                raise StopAsyncIteration
            items: list[VoiceSession] = []
            while self._left is None or len(items) < self._left:
                session = self._pop_new()
                if session is None:
                    break
                items.append(session)
            if items:
                if self._left is not None:
                    self._left -= len(items)
                return SessionPage(
                    data=tuple(items),
                    limit=self._page_limit,
                    offset=self._offset - len(items),
                    total=self._plan.total,
                    has_more=bool(self._buffer) or not self._plan.exhausted,
                )

    def _claim(self, mode: Literal["items", "pages"]) -> None:
        if self._mode is None:
            self._mode = mode
        elif self._mode != mode:
            raise RuntimeError("iterate a SessionIterator by items or by pages(), not both")

    def _pop_new(self) -> VoiceSession | None:
        """Next buffered session (all are new: ``_fill`` skipped the others); advances
        offset and cursor."""
        if not self._buffer:
            return None
        session = self._buffer.popleft()
        self._offset += 1
        self._cursor.remember(session)
        self.yielded += 1
        return session

    # -- fetching ------------------------------------------------------------

    async def _fill(self) -> bool:
        """Load the next accepted page into the empty buffer; False at the end."""
        try:
            page = await self._next_page()
            if page is not None:
                self._guard.check(page, self._cursor, last=self._plan.exhausted)
        except BaseException:
            await self.aclose()
            raise
        if page is None:
            await self.aclose()
            return False
        self._page_limit = page.limit
        seen = self._cursor.seen_prefix(page.data)  # yielded before: skipped, counted
        self._offset += seen
        self.duplicates_skipped += seen
        self._buffer.extend(page.data[seen:] if seen else page.data)
        return True

    async def _next_page(self) -> SessionPage | None:
        """The next page in list order, its successors already requested.

        Each answer is split first (envelope only) and the next requests are
        sent before its sessions are decoded, so decoding overlaps them.
        """
        plan = self._plan
        if self._pin_pending and plan.expected > 0:
            await self._probe()
        while True:
            if not self._flights:
                window = plan.first_window(self._offset, self._left)
                if window is None:
                    return None
                self._launch(window)
            flight = self._flights[0]
            if not flight.task.done():
                await asyncio.wait((flight.task,))  # unlike `await`, never cancels it
            if self._closed:
                return None  # aclose() from another task
            if flight.task.cancelled() and not (self._flights and self._flights[0] is flight):
                continue  # an abandoned `async for` paused the iteration: ask again
            self._flights.popleft()
            window = flight.window
            raw = split_page(flight.task.result(), limit=window.limit, offset=window.offset)
            answer = plan.accept(window, raw, pinned=self._filters is not self._user_filters)
            if answer is not Answer.ACCEPT:
                await self._resync(answer, raw)
                continue
            if self._pin_pending:  # the next requests carry the pin: decode first
                page = _decoded(raw)
                self._pin_to(page)
                await self._top_up()
                return page
            if await self._top_up():
                await asyncio.sleep(0)  # let the new requests leave before decoding
            return _decoded(raw)

    async def _resync(self, answer: Answer, raw: RawPage) -> None:
        """A refused answer: cancel what is in flight and refetch from the exact offset."""
        if answer is Answer.UNPIN:
            logger.warning(
                "the server applied created_before=%s differently than expected "
                "(total %s < %s); continuing without the snapshot pin",
                self.created_before,
                shown(raw.total),
                shown(self._plan.base_total),
            )
            self._filters = self._user_filters
        else:
            logger.debug("sessions list changed during concurrent paging; refetching")
        self.resyncs += 1
        self._plan.resynced()
        await self._cancel_flights()

    async def _probe(self) -> None:
        """Starting mid-list without a pin: learn the newest session to pin to."""
        payload = await self._fetch(self._filters, limit=1, offset=0)
        self._pin_to(_decoded(split_page(payload, limit=1, offset=0)))

    def _pin_to(self, head: SessionPage) -> None:
        """Pin further requests below the newest session of ``head`` (offset 0)."""
        self._pin_pending = False
        self._plan.base_total = head.total
        bound = pin_bound(head, self._user_filters.created_before)
        if bound is not None:
            self._filters = attrs.evolve(self._user_filters, created_before=bound)

    async def _top_up(self) -> bool:
        """After accepting a page: request what comes next; True if anything was sent."""
        if self._plan.exhausted:
            await self._cancel_flights()
            return False
        return self._send_more()

    def _send_more(self) -> bool:
        last = self._flights[-1].window if self._flights else None
        windows = self._plan.more_windows(
            last, len(self._flights), self._in_flight, self._offset, self._left
        )
        for window in windows:
            self._launch(window)
        return bool(windows)

    def _launch(self, window: Window) -> None:
        coro = self._fetch(self._filters, limit=window.limit, offset=window.offset)
        task = asyncio.ensure_future(coro)
        task.add_done_callback(self._landed)
        self._in_flight += 1
        self._flights.append(_Flight(window, task))

    def _landed(self, task: asyncio.Task[Any]) -> None:
        """A request finished: in concurrent mode, send the next one right away.

        Waiting until the consumer reaches the page (as a sliding window
        does) would leave the server idle whenever the consumer lags; this
        keeps ``concurrency`` requests at the server.  It also marks the
        task's exception as seen: an iterator stepped with ``__anext__`` and
        dropped unclosed must not log a failure nobody awaits.
        """
        self._in_flight -= 1
        if task.cancelled():
            return
        task.exception()
        plan = self._plan
        if self._flights and plan.concurrent() and not (self._closed or plan.exhausted):
            self._send_more()

    async def _cancel_flights(self) -> None:
        """Cancel and await the requests in flight (all state kept: resumable)."""
        flights, self._flights = list(self._flights), deque()
        for flight in flights:
            flight.task.cancel()
        if flights:
            await asyncio.gather(*(f.task for f in flights), return_exceptions=True)

    # -- lifecycle -----------------------------------------------------------

    async def aclose(self) -> None:
        """Stop: cancel and await every request in flight.  Idempotent."""
        self._closed = True
        self._buffer.clear()
        await self._cancel_flights()

    def __repr__(self) -> str:
        return (
            f"<SessionIterator offset={self._offset} total={self._plan.total} "
            f"yielded={self.yielded} closed={self._closed}>"
        )


class SessionPageIterator(AsyncClosing):
    """``async for page in iterator.pages()``: the page-wise view of one iteration."""

    def __init__(self, sessions: SessionIterator) -> None:
        self.sessions = sessions

    def __aiter__(self) -> AsyncIterator[SessionPage]:
        """Like :meth:`SessionIterator.__aiter__`: leaving the loop early pauses it."""
        return drain(self.__anext__, self.sessions._cancel_flights)

    async def __anext__(self) -> SessionPage:
        return await self.sessions._next_batch()

    async def aclose(self) -> None:
        await self.sessions.aclose()
