"""The decisions of ``sessions.iter()``, without I/O (the paginator's sans-I/O core).

As :mod:`._events_core` is to :mod:`._events`, this module is to
:mod:`._pagination`: everything that *decides* is pure code over plain values,
tested without sockets, and the I/O half only sends requests and awaits them.

Exactness (each session ``id`` at most once, no pre-existing session missed)
    The list is ordered ``created_at`` desc, then ``id`` desc.  New sessions
    arrive at the head, so between two requests items only ever move *later*:
    re-requesting "the next offset" can return items again, never skip one.
    (Deletions are not part of the contract; paging cannot see what moved
    earlier.)  Two mechanisms follow from that:

    * **Snapshot pin** (:func:`pin_bound`).  After the first page at offset 0
      (or a one-item probe at offset 0 when starting elsewhere) every further
      request carries ``created_before = newest created_at + 1 s``.  The
      contract leaves open whether the bound is inclusive and at what
      precision it is compared, so the pin is one second *generous*: under
      any reading it excludes no session that existed when iteration started,
      and it keeps almost all new ones out, so offsets stay put.  A caller's
      tighter ``created_before`` is kept as given; a newest session at the end
      of time (year 9999) needs no pin.  A pinned page reporting a smaller
      ``total`` than the unpinned first page proves the server reads the
      bound differently: the pin is dropped and the cursor alone is relied on.
    * **Cursor de-duplication** (:class:`Cursor`).  Sessions created in the
      pin's last second can still shift pages.  Anything sorting at or before
      the last yielded session was yielded already (or is new) and is skipped:
      the cursor is that one ``(created_at, id)`` pair, O(1) memory.  A page
      not ordered that way raises rather than risking a silent skip.

    Next offset = offset + items actually *received* (duplicates included).

Termination (:class:`ProgressGuard`)
    A server that ignores ``offset`` answers the same page forever.  A page
    bringing no new session is tolerated only as far as inserts explain it;
    beyond that :class:`PaginationStalledError` ends the iteration.

Planning (:class:`PagePlanner`)
    With prefetch the next page is requested as soon as the current one
    arrives.  With ``concurrency=N`` and a ``total`` known, ``N`` offset
    windows are kept in flight.  A window requested before its predecessor's
    answer arrived is accepted only if it reports the same ``total`` (inserts
    only grow the list, so equal totals mean nothing moved) and starts where
    the predecessor ended; otherwise paging resumes from the exact next
    offset: a head shift costs a round trip, never a session.  After a shift,
    pages go one at a time until two in a row report the same ``total``.
    Without ``total`` paging is sequential with prefetch.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from . import _validate as check
from ._convert import RawPage, format_datetime, parse_datetime
from ._errors import APIResponseValidationError, InvalidRequestError, PaginationStalledError
from ._models import SessionPage, VoiceSession

__all__ = [
    "MAX_CONCURRENCY",
    "MAX_EXPLAINED_STALLS",
    "MAX_STALLED_PAGES",
    "PIN_MARGIN",
    "Answer",
    "Checkpoint",
    "Cursor",
    "PagePlanner",
    "ProgressGuard",
    "Window",
    "check_order",
    "pin_bound",
    "shown",
]

#: How far past the newest session the snapshot pin lies (see module docstring).
PIN_MARGIN = timedelta(seconds=1)
MAX_CONCURRENCY = 64
#: Pages in a row that bring no new session, unexplained by inserts, before
#: the iterator gives up on a server that ignores ``offset``.
MAX_STALLED_PAGES = 3
#: Pages in a row whose duplicates a grown ``total`` explains (inserts during
#: the pin's last second) before the iterator gives up all the same.
MAX_EXPLAINED_STALLS = 100


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


class Cursor:
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

    def seen_prefix(self, sessions: Sequence[VoiceSession]) -> int:
        """How many of an ordered page's leading sessions were yielded already.

        Checked once per page rather than per session: the page is ordered
        (``check_order``), so the first new session is followed by new ones
        only, and the iterator can hand out the rest without a check each.
        """
        for index, session in enumerate(sessions):
            if self.is_new(session):
                return index
        return len(sessions)


def shown(value: object) -> str:
    """A server-supplied value for a message: ``str()`` fails on 4,300+ digit ints."""
    try:
        return str(value)
    except ValueError:
        return "(a number too long to show)"


def check_order(page: SessionPage) -> None:
    """Refuse a page that is not newest first: the cursor would skip wrongly."""
    for newer, older in itertools.pairwise(page.data):
        if older.created_at > newer.created_at or (
            older.created_at == newer.created_at and older.id >= newer.id
        ):
            raise APIResponseValidationError(
                "sessions page is not ordered by created_at, then id, descending "
                f"(offset {shown(page.offset)}); cannot page exactly"
            )


def pin_bound(head: SessionPage, own_before: datetime | str | None) -> datetime | None:
    """The ``created_before`` to pin to after ``head`` (offset 0); ``None``: no pin.

    No pin when the list is empty, when the caller's own bound is tighter,
    or when the newest session sits at the end of time (nothing is newer,
    and ``+ 1 s`` would overflow).
    """
    if not head.data:
        return None
    try:
        bound = head.data[0].created_at.astimezone(timezone.utc) + PIN_MARGIN
    except OverflowError:
        return None
    if own_before is not None and parse_datetime(own_before) <= bound:
        return None
    return bound


class ProgressGuard:
    """Ends an iteration that stopped making progress, instead of looping.

    A page brings progress when it holds a session sorting after the cursor
    (the page's oldest session tells, the page being ordered).  Inserts in
    the pin's last second can fill pages with sessions seen already, but only
    by growing ``total`` at least as much as the offset advanced since the
    last page with progress (each insert shifts the list by one).  Such
    *explained* stalls are tolerated up to :data:`MAX_EXPLAINED_STALLS` in a
    row (on a real server the pin ends them within a second).  Otherwise the
    server ignores ``offset``: proven at once when ``total`` did not change
    at all, and after :data:`MAX_STALLED_PAGES` in a row without ``total``.
    """

    __slots__ = ("explained", "mark", "stalls")

    def __init__(self, offset: int) -> None:
        self.stalls = self.explained = 0
        #: ``(total, end offset)`` of the last page that brought a new session.
        self.mark: tuple[int | None, int] = (None, offset)

    def check(self, page: SessionPage, cursor: Cursor, *, last: bool) -> None:
        """Judge one accepted page before its sessions are consumed; raise if stalled."""
        total, end = page.total, page.offset + len(page.data)
        if page.data and cursor.is_new(page.data[-1]):
            self.stalls = self.explained = 0
            self.mark = (total, end)
            return
        if not page.data and last:
            return  # the empty last page of a list: the normal end
        mark_total, mark_end = self.mark
        if mark_total is not None and total is not None and total - mark_total >= end - mark_end:
            self.explained += 1
            if total != mark_total and self.explained < MAX_EXPLAINED_STALLS:
                return
        else:
            self.stalls += 1
            if self.stalls < MAX_STALLED_PAGES and (total is None or total != mark_total):
                return
        stalled = self.stalls + self.explained
        raise PaginationStalledError(
            f"sessions list: {stalled} page(s) in a row up to offset {shown(page.offset)} "
            f"brought no session not yielded already (total {shown(total)}); the server seems "
            "to ignore "
            "offset: stopping rather than looping or skipping",
            stalled_pages=stalled,
            offset=page.offset,
        )


class Window:
    """One planned page request (the I/O half pairs it with its task).

    ``causal``: sent after its predecessor's answer arrived, so a head shift
    between the two can only duplicate items, never skip them.
    """

    __slots__ = ("causal", "limit", "offset")

    def __init__(self, offset: int, limit: int, causal: bool) -> None:
        self.offset = offset
        self.limit = limit
        self.causal = causal

    def __repr__(self) -> str:
        return f"Window(offset={self.offset}, limit={self.limit}, causal={self.causal})"


class Answer(enum.Enum):
    """What to do with a page answer (see :meth:`PagePlanner.accept`)."""

    ACCEPT = "accept"  # the continuation of what was yielded
    RESYNC = "resync"  # the list moved: cancel what is in flight, refetch from ``expected``
    UNPIN = "unpin"  # the server reads the pin differently: drop it, then resync


class PagePlanner:
    """Which pages to request next, and whether an answer continues the iteration.

    ``expected`` is the list position the next accepted page must start at;
    ``position``/``left`` passed in are the consumer's (its resume offset and
    how many more items it may take, ``None`` = no cap).
    """

    def __init__(self, *, page_size: int, concurrency: int, prefetch: bool, offset: int) -> None:
        self.page_size = page_size
        self.concurrency = concurrency
        self.prefetch = prefetch
        self.expected = offset
        self.total: int | None = None
        self.base_total: int | None = None
        self.stable = True
        self.exhausted = False
        self.pages_accepted = 0

    def concurrent(self) -> bool:
        """Concurrent windows only pay off while the list holds still."""
        return self.concurrency > 1 and self.total is not None and self.stable

    def ahead(self) -> int:
        """How many page requests to keep in flight beyond the current page."""
        if self.concurrent():
            return self.concurrency
        return 1 if self.prefetch else 0

    def window_size(self, offset: int, position: int, left: int | None) -> int:
        """Page size for a request at ``offset``; smaller near the cap, 0 = not needed."""
        if left is None:
            return self.page_size
        return max(0, min(self.page_size, left - (offset - position)))

    def first_window(self, position: int, left: int | None) -> Window | None:
        """The request for the next page when none is in flight; ``None`` at the end."""
        size = self.window_size(self.expected, position, left)
        if self.exhausted or size == 0:
            return None
        return Window(self.expected, size, causal=True)

    def more_windows(
        self, last: Window | None, queued: int, in_flight: int, position: int, left: int | None
    ) -> list[Window]:
        """Requests to send now: ``ahead()`` in flight, at most twice that many held.

        The 2x cap also bounds what an iterator dropped unclosed can still send.
        """
        out: list[Window] = []
        ahead = self.ahead()
        while in_flight + len(out) < ahead and queued + len(out) < 2 * ahead:
            previous = out[-1] if out else last
            if previous is not None:
                offset = previous.offset + previous.limit
                if self.total is not None and offset >= self.total:
                    break
            else:
                offset = self.expected
            size = self.window_size(offset, position, left)
            if size == 0:
                break
            out.append(Window(offset, size, causal=previous is None))
        return out

    def accept(self, window: Window, page: RawPage, *, pinned: bool) -> Answer:
        """Take ``page`` as the continuation of what was yielded, or refuse it."""
        if page.offset != window.offset:
            raise APIResponseValidationError(
                f"asked for offset {window.offset}, the server answered {shown(page.offset)}"
            )
        if window.offset != self.expected:
            return Answer.RESYNC  # planned assuming full pages; a short page moved the boundary
        if not window.causal and (page.total is None or page.total != self.total):
            return Answer.RESYNC  # the list changed between concurrent windows
        if self.pin_broken(page, pinned=pinned):
            return Answer.UNPIN
        self.pages_accepted += 1
        self.stable = self.total is None or page.total == self.total
        if page.total is not None:
            self.total = page.total
        self.expected = window.offset + len(page.items)
        self.exhausted = page.next_offset is None
        return Answer.ACCEPT

    def pin_broken(self, page: RawPage, *, pinned: bool) -> bool:
        """A pinned list can only be a superset of the first one; if not, unpin."""
        base, total = self.base_total, page.total
        return pinned and base is not None and total is not None and total < base

    def resynced(self) -> None:
        """The list moved: go page by page until it holds still again."""
        self.stable = False
