"""Follow several sessions at once: ``client.sessions.watch(a, b, ...)``.

Built on :class:`EventStream` (one per session, so each keeps its own
exactly-once, in-order guarantee): one pump task per stream feeds a bounded
queue that the caller's ``async for`` drains.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable, Mapping

from ._aio import AsyncClosing
from ._config import Timeout
from ._errors import InvalidRequestError
from ._events import EventStream
from ._events_core import EventStreamOptions, count
from ._models import SessionEvent
from ._transport import Transport

__all__ = ["SessionWatch", "watch_sessions"]


class SessionWatch(AsyncClosing):
    """Several sessions' live events merged into one stream (``sessions.watch``).

    Each session keeps its own order and exactly-once delivery (one
    :class:`EventStream` each); events of different sessions interleave as
    they arrive.  One pump task per session feeds a bounded queue, so a slow
    consumer blocks the pumps, which stop reading their sockets: memory stays
    bounded by ``max_pending`` plus each stream's ``max_queue``.

    Iteration ends when every session has ended.  The first stream that fails
    for good stops them all and its error is raised.  :attr:`last_seqs` holds,
    per session, the seq of the last event *handed to the caller* (not merely
    queued): the ``after_seq`` values to resume with.
    """

    def __init__(self, streams: list[EventStream], *, max_pending: int = 64) -> None:
        self._streams = streams
        self._max_pending = count("max_pending", max_pending, 1)
        self._delivered = {s.session_id: s.after_seq for s in streams}
        self._iterating = False

    @property
    def last_seqs(self) -> dict[str, int]:
        return dict(self._delivered)

    def __repr__(self) -> str:
        return f"<SessionWatch sessions={len(self._streams)}>"

    async def aclose(self) -> None:
        """Close every session's connection (concurrently).  Idempotent."""
        await asyncio.gather(*(stream.aclose() for stream in self._streams))

    def __aiter__(self) -> AsyncGenerator[SessionEvent, None]:
        if self._iterating:
            raise RuntimeError("this SessionWatch is already being iterated")
        self._iterating = True
        return self._events()

    async def _events(self) -> AsyncGenerator[SessionEvent, None]:
        queue: asyncio.Queue[_Item] = asyncio.Queue(self._max_pending)
        stopping = asyncio.Event()
        pumps = [asyncio.ensure_future(_pump(stream, queue, stopping)) for stream in self._streams]
        try:
            running = len(pumps)
            while running:
                session_id, item = await queue.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    self._delivered[session_id] = item.seq
                    yield item
        except asyncio.CancelledError:
            for stream in self._streams:
                stream._abort()
            raise
        finally:
            # Pumps now drop what they read (which drains the sockets while
            # they close); emptying the queue frees any pump blocked on put().
            stopping.set()
            while not queue.empty():
                queue.get_nowait()
            await self.aclose()  # normal 1000 closes; each pump's stream then ends
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)


def watch_sessions(
    transport: Transport,
    session_ids: Iterable[str],
    *,
    after_seq: Mapping[str, int] | None = None,
    max_pending: int = 64,
    timeout: float | Timeout | None = None,
    options: EventStreamOptions | None = None,
) -> SessionWatch:
    """One :class:`EventStream` per distinct id (``timeout``/``options`` for each), merged."""
    resume = after_seq or {}
    ids = list(dict.fromkeys(session_ids))
    if not ids:
        raise InvalidRequestError("session_ids", "must name at least one session")
    unknown = set(resume) - set(ids)
    if unknown:
        raise InvalidRequestError("after_seq", f"names sessions not watched: {sorted(unknown)}")
    streams = [
        EventStream(transport, sid, after_seq=resume.get(sid, 0), timeout=timeout, options=options)
        for sid in ids
    ]
    return SessionWatch(streams, max_pending=max_pending)


#: What a pump puts in the shared queue: (session id, an event, its stream's
#: final error, or ``None`` when the stream ended).
_Item = tuple[str, "SessionEvent | BaseException | None"]


async def _pump(stream: EventStream, queue: asyncio.Queue[_Item], stopping: asyncio.Event) -> None:
    """Move one stream's events into the shared queue, then its end or error.

    Once ``stopping`` is set nobody reads the queue: events are dropped.
    """
    session_id = stream.session_id
    events = aiter(stream)
    last: SessionEvent | BaseException | None = None
    try:
        async for event in events:
            if not stopping.is_set():
                await queue.put((session_id, event))
    except Exception as exc:
        last = exc
    finally:
        await events.aclose()
    if not stopping.is_set():
        await queue.put((session_id, last))
