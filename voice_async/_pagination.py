"""``client.sessions.iter()``: every session once, in order, fast and memory-flat.

Offset paging is simple on the wire and treacherous in a client.  What this
module guarantees, and how:

Exactness (each session ``id`` at most once, no pre-existing session missed)
    The list is ordered ``created_at`` desc, then ``id`` desc.  New sessions
    arrive at the head, so between two requests items only ever move *later*:
    re-requesting "the next offset" can return items again, never skip one.
    (Deletions are not part of the contract; paging cannot see what moved
    earlier.)  Two mechanisms follow from that:

    * **Snapshot pin.**  After the first page at offset 0 (or a one-item probe
      at offset 0 when starting elsewhere) the iterator adds
      ``created_before = newest created_at + 1 s`` to every further request.
      The contract leaves open whether the bound is inclusive and at what
      precision it is compared (the emulator: exclusive, whole seconds), so
      the pin is one second *generous*: under any of those readings it excludes
      no session that existed when iteration started, and it keeps almost all
      new ones out, so offsets stay put and a busy tenant cannot starve the
      iteration.  If the caller's own ``created_before`` is tighter, it is kept
      as given.  A pinned page reporting a smaller ``total`` than the unpinned
      first page proves the server reads the bound differently; the iterator
      then drops the pin (logged) and relies on the cursor alone.
    * **Cursor de-duplication.**  Sessions created in the pin's last second can
      still shift pages.  Because the order is by ``(created_at, id)``
      descending, anything sorting at or before the last yielded session has
      been yielded already (or is new) and is skipped: the cursor is that one
      ``(created_at, id)`` pair, O(1) memory.  (Remembering the ids yielded
      at the cursor's timestamp instead, as an earlier version did, let a
      session created meanwhile in that same second through *out of order*.)
      A page that is not ordered that way raises
      :class:`APIResponseValidationError` rather than risking a silent skip.

Next offset = offset + items actually *received* (duplicates included): the
offset is a position in the server's list, not a count of yielded items.

Speed
    With ``prefetch`` (default) the next page is requested as soon as the
    current one arrives, so the network overlaps the caller's work.  Each
    answer is split first (``_convert.split_page``: the envelope, cheap) and
    the next request leaves *before* its sessions are decoded (the costly
    part, ``decode_page``), so decoding overlaps the next round trip too.  With
    ``concurrency=N`` and a ``total`` known from the first page, ``N`` offset
    windows are kept in flight (a new one is sent whenever one is answered,
    whether or not the consumer has reached it) and yielded in order.  A window
    requested before its predecessor's answer arrived is accepted only if it
    reports the same ``total`` as that predecessor (insertions only grow the
    list, so equal totals mean nothing moved in between) and starts where the
    predecessor ended.  Otherwise the in-flight windows are cancelled and
    paging resumes from the exact next offset: a head shift costs a round
    trip, never a session.  After a shift, pages go one at a time until two
    in a row report the same ``total`` (the list holds still again), so a
    burst of inserts does not waste N-1 requests per page.  Without
    ``total`` (bare arrays, minimal envelopes) the iterator cannot detect a
    shift between windows, so paging is sequential with prefetch.

    Limit of the pin: sessions created *within the pin's last second*
    (at most one second's worth of new calls) are inside the snapshot.
    They cost duplicates, which the cursor drops; if more of them arrive
    between two requests than a page holds, progress waits for that second
    to pass.  Sessions created during iteration are never required: one is
    yielded (once) only if it sorts after the cursor when it is seen.

Memory
    At most ``concurrency`` pages in flight and as many answered ones waiting
    for their turn (one each without concurrency), plus the page being consumed.

Cancellation
    ``aclose()`` / ``async with`` cancel and await every request in flight,
    at once: prefer ``async with`` for deterministic cleanup.  Cancelling the
    task that is awaiting the next item closes the iterator the same way, and
    ``aclose()`` from another task ends the consumer's loop cleanly.

    A bare ``async for ... break`` is handled without ``__del__`` (which must
    never close or schedule anything): ``__aiter__`` returns an async
    generator, and when the loop is left early the event loop's async
    generator finalizer closes it (a task scheduled a loop iteration or two
    after the ``break``; ``loop.shutdown_asyncgens()`` at the latest).  Its
    ``finally`` cancels and awaits the requests in flight -- a *pause*, not a
    close: the position is kept, so iterating again continues exactly where
    the loop stopped (re-requesting what was cancelled), and a finalizer that
    runs late can never cut short a loop the caller started meanwhile.

Failures
    Each page goes through the client's retry policy.  A page that still
    fails raises from the iterator at the point where its items would have
    been yielded; nothing is skipped, and :attr:`SessionIterator.offset` /
    :meth:`SessionIterator.checkpoint` say exactly where to resume.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from . import _validate as check
from ._aio import AsyncClosing
from ._convert import RawPage, decode_page, format_datetime, parse_datetime, split_page
from ._errors import APIResponseValidationError, InvalidRequestError, PaginationStalledError
from ._models import SessionPage, VoiceSession

if TYPE_CHECKING:
    from .resources.sessions import SessionFilters, SessionsResource

__all__ = ["Checkpoint", "SessionIterator", "SessionPageIterator"]

logger = logging.getLogger("voice_async")

#: How far past the newest session the snapshot pin lies (see module docstring).
PIN_MARGIN = timedelta(seconds=1)
MAX_CONCURRENCY = 64
#: Pages in a row that bring no new session before the iterator gives up on a
#: server that ignores ``offset`` (a conforming server needs more than a page
#: of inserts, all in the pin's last second, between two requests to do that).
MAX_STALLED_PAGES = 3
#: Pages in a row whose duplicates a grown ``total`` explains (inserts during
#: the pin's last second) before the iterator gives up all the same.
MAX_EXPLAINED_STALLS = 100

T = TypeVar("T")


@attrs.frozen
class Checkpoint:
    """Where an iteration stands, to resume it after a crash.

    Take it *after* durably processing the sessions yielded so far;
    ``client.sessions.iter(resume=checkpoint, <same filters>)`` then yields
    exactly the rest.  ``to_dict``/``from_dict`` give a JSON-safe form.
    ``cursor_created_at``/``cursor_ids`` locate the last yielded session
    (``cursor_ids`` holds its id; a list, so older checkpoints still load).
    """

    offset: int
    created_before: str | None = None
    cursor_created_at: datetime | None = None
    cursor_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        at = self.cursor_created_at
        return {
            "offset": self.offset,
            "created_before": self.created_before,
            "cursor_created_at": None if at is None else format_datetime(at),
            "cursor_ids": list(self.cursor_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        """Rebuild from :meth:`to_dict` output, validating every field."""
        if not isinstance(data, Mapping):
            raise InvalidRequestError("resume", "must be a mapping from Checkpoint.to_dict()")
        before = data.get("created_before")
        at = data.get("cursor_created_at")
        ids = data.get("cursor_ids") or []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidRequestError("cursor_ids", "must be a list of session ids")
        try:
            cursor_at = None if at is None else parse_datetime(at)
        except (TypeError, ValueError, OverflowError):
            raise InvalidRequestError("cursor_created_at", f"is not a timestamp: {at!r}") from None
        return cls(
            offset=check.offset(data.get("offset"), "offset"),
            created_before=None if before is None else check.timestamp("created_before", before),
            cursor_created_at=cursor_at,
            cursor_ids=tuple(ids),
        )


class _Cursor:
    """The list position of the last yielded session: its ``(created_at, id)``.

    The list order is ``created_at`` desc, then ``id`` desc, and a session
    sorting at or before the cursor was either yielded already or created
    since; only the ones sorting after it are new to the iteration.
    """

    __slots__ = ("at", "id")

    def __init__(self, at: datetime | None = None, ids: Iterable[str] = ()) -> None:
        self.at = at
        # Checkpoints list the ids yielded at ``at`` (newest first): the
        # smallest is the last one.
        self.id = min(ids, default=None)

    def is_new(self, session: VoiceSession) -> bool:
        if self.at is None or session.created_at < self.at:
            return True
        if session.created_at > self.at:
            return False
        return self.id is None or session.id < self.id

    def remember(self, session: VoiceSession) -> None:
        self.at = session.created_at
        self.id = session.id


class _Window:
    """One page request in flight (a plain slotted class: cheap to import).

    ``causal``: sent after its predecessor's answer arrived, so a head shift
    between the two can only duplicate items, never skip them.
    """

    __slots__ = ("causal", "limit", "offset", "task")

    def __init__(self, offset: int, limit: int, causal: bool, task: asyncio.Task[Any]) -> None:
        self.offset = offset
        self.limit = limit
        self.causal = causal
        self.task = task


def _positive(name: str, value: object, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise InvalidRequestError(name, f"must be an int from 1 to {upper}, got {value!r}")
    return value


def _check_order(page: SessionPage) -> None:
    """Refuse a page that is not newest first: the cursor would skip wrongly."""
    for newer, older in itertools.pairwise(page.data):
        if older.created_at > newer.created_at or (
            older.created_at == newer.created_at and older.id >= newer.id
        ):
            raise APIResponseValidationError(
                "sessions page is not ordered by created_at, then id, descending "
                f"(offset {page.offset}); cannot page exactly"
            )


def _decoded(raw: RawPage) -> SessionPage:
    page = decode_page(raw)
    _check_order(page)
    return page


async def _drain(
    step: Callable[[], Awaitable[T]], stop: Callable[[], Awaitable[None]]
) -> AsyncIterator[T]:
    """``async for`` over ``step()`` until ``StopAsyncIteration``; ``stop()`` when left.

    An async generator, so leaving the loop early (``break``, ``return``, an
    exception in the body) is seen without ``__del__``: the event loop's
    async-generator finalizer closes the abandoned generator soon after
    (``loop.shutdown_asyncgens()`` at the latest), which runs ``finally``.
    """
    try:
        while True:
            try:
                item = await step()
            except StopAsyncIteration:
                return
            yield item
    finally:
        await stop()


class SessionIterator(AsyncClosing):
    """``async for session in client.sessions.iter(...)`` -- see the module docstring.

    Progress for a CLI: :attr:`total` (known after the first page when the
    server sends it), :attr:`offset` (the position to resume from),
    :attr:`yielded`, and :meth:`checkpoint`.  Page-wise: ``async for page in
    iterator.pages()``.  Use ``async with`` (or ``aclose()``) to stop early.
    """

    def __init__(
        self,
        resource: SessionsResource,
        filters: SessionFilters,
        *,
        limit: int = 100,
        max_items: int | None = None,
        start_offset: int = 0,
        concurrency: int = 1,
        prefetch: bool = True,
        resume: Checkpoint | None = None,
    ) -> None:
        self._windows: deque[_Window] = deque()
        self._in_flight = 0
        self._page_size = check.limit(limit, "limit")
        self._left = None if max_items is None else check.offset(max_items, "max_items")
        self._concurrency = _positive("concurrency", concurrency, MAX_CONCURRENCY)
        self._prefetch = bool(prefetch)
        filters.params()  # validate now, not at the first request
        self._resource = resource
        self._user_filters = filters
        self._filters = filters
        check.offset(start_offset, "start_offset")
        self._pin_pending = True
        self._cursor = _Cursor()
        if resume is not None:
            if start_offset:
                raise InvalidRequestError("start_offset", "give either start_offset or resume")
            start_offset = self._resume_from(resume)
        self._offset = self._expected = start_offset
        self._base_total: int | None = None
        self._total: int | None = None
        #: ``(total, end offset)`` of the last page that brought a new session.
        self._progress_mark: tuple[int | None, int] = (None, start_offset)
        self._stalls = self._explained_stalls = 0
        self._stable = True
        self._page_limit = self._page_size
        self._buffer: deque[VoiceSession] = deque()
        self._exhausted = False
        self._closed = False
        self._mode: Literal["items", "pages"] | None = None
        self.yielded = 0
        self.pages_fetched = 0
        self.duplicates_skipped = 0
        self.resyncs = 0

    def _resume_from(self, checkpoint: Checkpoint) -> int:
        """Restore the pin and the cursor of a checkpoint; returns its offset."""
        self._cursor = _Cursor(checkpoint.cursor_created_at, checkpoint.cursor_ids)
        if checkpoint.created_before is not None:
            pinned = checkpoint.created_before
            self._filters = attrs.evolve(self._user_filters, created_before=pinned)
            self._pin_pending = False
        return checkpoint.offset

    # -- progress and resumption -------------------------------------------

    @property
    def total(self) -> int | None:
        """Sessions in the (pinned) list per the latest page; ``None`` if not sent."""
        return self._total

    @property
    def offset(self) -> int:
        """List position of the next session not yet yielded (resume point)."""
        return self._offset

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
        return _drain(self.__anext__, self._cancel_windows)

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
                    total=self._total,
                    has_more=bool(self._buffer) or not self._exhausted,
                )

    def _claim(self, mode: Literal["items", "pages"]) -> None:
        if self._mode is None:
            self._mode = mode
        elif self._mode != mode:
            raise RuntimeError("iterate a SessionIterator by items or by pages(), not both")

    def _pop_new(self) -> VoiceSession | None:
        """Next buffered session not yielded before; advances offset and cursor."""
        while self._buffer:
            session = self._buffer.popleft()
            self._offset += 1
            if self._cursor.is_new(session):
                self._cursor.remember(session)
                self.yielded += 1
                return session
            self.duplicates_skipped += 1
        return None

    # -- fetching ------------------------------------------------------------

    def _check_progress(self, page: SessionPage) -> None:
        """Refuse to loop forever on a server that answers the same page again.

        A page brings progress when it holds a session sorting after the
        cursor (the oldest one of the page tells, the page being ordered).
        Inserts in the pin's last second can fill pages with sessions seen
        already, but only by growing ``total`` at least as much as the offset
        advanced since the last page with progress (each insert shifts the
        list by one).  Such *explained* stalls are tolerated up to
        :data:`MAX_EXPLAINED_STALLS` in a row (on a real server the pin ends
        them within a second).  Otherwise the server ignores ``offset``: proven
        at once when ``total`` did not change at all, and after
        :data:`MAX_STALLED_PAGES` in a row when ``total`` is not sent.
        """
        total, end = page.total, page.offset + len(page.data)
        if page.data and self._cursor.is_new(page.data[-1]):
            self._stalls = self._explained_stalls = 0
            self._progress_mark = (total, end)
            return
        if not page.data and self._exhausted:
            return  # the empty last page of a list: the normal end
        mark_total, mark_end = self._progress_mark
        if mark_total is not None and total is not None and total - mark_total >= end - mark_end:
            self._explained_stalls += 1
            if total != mark_total and self._explained_stalls < MAX_EXPLAINED_STALLS:
                return
        else:
            self._stalls += 1
            if self._stalls < MAX_STALLED_PAGES and (total is None or total != mark_total):
                return
        stalled = self._stalls + self._explained_stalls
        raise PaginationStalledError(
            f"sessions list: {stalled} page(s) in a row up to offset {page.offset} brought "
            f"no session not yielded already (total {total}); the server seems to ignore "
            "offset: stopping rather than looping or skipping",
            stalled_pages=stalled,
            offset=page.offset,
        )

    async def _fill(self) -> bool:
        """Load the next accepted page into the empty buffer; False at the end."""
        try:
            page = await self._next_page()
        except BaseException:
            await self.aclose()
            raise
        if page is None:
            await self.aclose()
            return False
        try:
            self._check_progress(page)
        except BaseException:
            await self.aclose()
            raise
        self._page_limit = page.limit
        self._buffer.extend(page.data)
        return True

    async def _next_page(self) -> SessionPage | None:
        """The next page in list order, its successors already requested.

        Each answer is split first (envelope only) and the next requests are
        sent before its sessions are decoded, so decoding overlaps them.
        """
        if self._pin_pending and self._expected > 0:
            await self._probe()
        while True:
            if not self._windows:
                size = self._window_size(self._expected)
                if self._exhausted or size == 0:
                    return None
                self._launch(self._expected, size, causal=True)
            window = self._windows[0]
            if not window.task.done():
                await asyncio.wait((window.task,))  # unlike `await`, never cancels it
            if self._closed:
                return None  # aclose() from another task
            if window.task.cancelled() and window is not self._peek():
                continue  # an abandoned `async for` paused the iteration: ask again
            self._windows.popleft()
            raw = split_page(window.task.result(), limit=window.limit, offset=window.offset)
            if not self._accept(window, raw):
                self.resyncs += 1
                self._stable = False
                await self._cancel_windows()
                continue
            if self._pin_pending:  # the next requests carry the pin: decode first
                page = _decoded(raw)
                self._pin_to(page)
                await self._plan()
                return page
            if await self._plan():
                await asyncio.sleep(0)  # let the new requests leave before decoding
            return _decoded(raw)

    def _peek(self) -> _Window | None:
        return self._windows[0] if self._windows else None

    async def _probe(self) -> None:
        """Starting mid-list without a pin: learn the newest session to pin to."""
        payload = await self._resource._request_page(self._filters, limit=1, offset=0)
        self._pin_to(_decoded(split_page(payload, limit=1, offset=0)))

    def _pin_to(self, head: SessionPage) -> None:
        """Pin further requests below the newest session of ``head`` (offset 0)."""
        self._pin_pending = False
        self._base_total = head.total
        if not head.data:
            return
        try:
            bound = head.data[0].created_at.astimezone(timezone.utc) + PIN_MARGIN
        except OverflowError:  # the newest session is at the end of time: nothing is newer
            return
        own = self._user_filters.created_before
        if own is not None and parse_datetime(own) <= bound:
            return  # the caller's bound is tighter: nothing newer can appear
        self._filters = attrs.evolve(self._user_filters, created_before=bound)

    def _accept(self, window: _Window, page: RawPage) -> bool:
        """Take ``page`` as the continuation of what was yielded, or refuse it."""
        if page.offset != window.offset:
            raise APIResponseValidationError(
                f"asked for offset {window.offset}, the server answered offset {page.offset}"
            )
        if window.offset != self._expected:
            return False  # planned assuming full pages; a short page moved the boundary
        if not window.causal and (page.total is None or page.total != self._total):
            logger.debug("sessions list changed during concurrent paging; refetching")
            return False
        if self._pin_broken(page):
            return False
        self.pages_fetched += 1
        self._stable = self._total is None or page.total == self._total
        if page.total is not None:
            self._total = page.total
        self._expected = window.offset + len(page.items)
        self._exhausted = page.next_offset is None
        return True

    def _pin_broken(self, page: RawPage) -> bool:
        """A pinned list can only be a superset of the first one; if not, unpin."""
        pinned = self._filters is not self._user_filters
        base, total = self._base_total, page.total
        if not pinned or base is None or total is None or total >= base:
            return False
        logger.warning(
            "the server applied created_before=%s differently than expected "
            "(total %d < %d); continuing without the snapshot pin",
            self.created_before,
            total,
            base,
        )
        self._filters = self._user_filters
        return True

    def _ahead(self) -> int:
        """How many page requests to keep in flight beyond the current page.

        Concurrent windows only pay off while the list holds still: after a
        shift, pages go one at a time until two in a row report the same
        ``total``, instead of cancelling N-1 windows per page.
        """
        if self._concurrent():
            return self._concurrency
        return 1 if self._prefetch else 0

    def _concurrent(self) -> bool:
        return self._concurrency > 1 and self._total is not None and self._stable

    def _window_size(self, offset: int) -> int:
        """Page size for a request at ``offset``; smaller near ``limit``, 0 = not needed."""
        if self._left is None:
            return self._page_size
        return max(0, min(self._page_size, self._left - (offset - self._offset)))

    async def _plan(self) -> bool:
        """After accepting a page: request what comes next; True if anything was sent."""
        if self._exhausted:
            await self._cancel_windows()
            return False
        return self._top_up()

    def _top_up(self) -> bool:
        """Keep ``_ahead()`` requests in flight, at most twice that many pages held."""
        launched = False
        ahead = self._ahead()
        while self._in_flight < ahead and len(self._windows) < 2 * ahead:
            if self._windows:
                last = self._windows[-1]
                offset = last.offset + last.limit
                if self._total is not None and offset >= self._total:
                    break
            else:
                offset = self._expected
            size = self._window_size(offset)
            if size == 0:
                break
            self._launch(offset, size, causal=not self._windows)
            launched = True
        return launched

    def _launch(self, offset: int, size: int, *, causal: bool) -> None:
        # An iterator stepped with __anext__ and dropped unclosed lives on
        # through its tasks' callbacks until they finish; the 2x cap in
        # _top_up bounds what it can still send (nothing is ever consumed).
        coro = self._resource._request_page(self._filters, limit=size, offset=offset)
        task = asyncio.ensure_future(coro)
        task.add_done_callback(self._landed)
        self._in_flight += 1
        self._windows.append(_Window(offset, size, causal, task))

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
        if self._windows and self._concurrent() and not (self._closed or self._exhausted):
            self._top_up()

    async def _cancel_windows(self) -> None:
        """Cancel and await the requests in flight (all state kept: resumable)."""
        windows, self._windows = list(self._windows), deque()
        for window in windows:
            window.task.cancel()
        if windows:
            await asyncio.gather(*(w.task for w in windows), return_exceptions=True)

    # -- lifecycle -----------------------------------------------------------

    async def aclose(self) -> None:
        """Stop: cancel and await every request in flight.  Idempotent."""
        self._closed = True
        self._buffer.clear()
        await self._cancel_windows()

    def __repr__(self) -> str:
        return (
            f"<SessionIterator offset={self._offset} total={self._total} "
            f"yielded={self.yielded} closed={self._closed}>"
        )


class SessionPageIterator(AsyncClosing):
    """``async for page in iterator.pages()``: the page-wise view of one iteration."""

    def __init__(self, sessions: SessionIterator) -> None:
        self.sessions = sessions

    def __aiter__(self) -> AsyncIterator[SessionPage]:
        """Like :meth:`SessionIterator.__aiter__`: leaving the loop early pauses it."""
        return _drain(self.__anext__, self.sessions._cancel_windows)

    async def __anext__(self) -> SessionPage:
        return await self.sessions._next_batch()

    async def aclose(self) -> None:
        await self.sessions.aclose()
