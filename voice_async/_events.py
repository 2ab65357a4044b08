"""Live session events over WebSocket: exactly once, in order, through disconnects.

``EventStream`` is the I/O half; every decision (what a close code means, is
this seq a duplicate or a gap, how long to back off) is made by the pure code
in :mod:`._events_core`.  Design points:

* **No reader task.**  Frames are pulled from the socket by the consumer's own
  ``async for``.  A slow consumer therefore slows the socket: python-websockets
  stops reading once ``max_queue`` frames are waiting, TCP flow control does
  the rest, and memory stays bounded without a queue of our own.  It also
  means nothing runs in the background that could outlive the stream.
* **Resume, not restart.**  Every (re)connect asks for ``after_seq`` = the last
  seq handed to the caller, duplicates from the replay are dropped and a gap
  raises :class:`EventGapError`.  ``last_seq`` is public so callers can
  persist it and resume in another process.
* **Our own reconnect loop**, not ``async for ws in connect(...)``: its backoff
  resets after every handshake, which hammers a server that accepts and drops.
* **Prompt cleanup.**  Cancelling the consumer aborts the TCP connection at
  once; leaving the loop (``break``, an exception, ``async with`` exit) closes
  it with a normal 1000 close.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncGenerator
from types import TracebackType

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    SecurityError,
)
from websockets.version import version as websockets_version
from yarl import URL

from . import _validate as check
from ._errors import (
    ClientClosedError,
    EventGapError,
    EventStreamError,
    InvalidRequestError,
    SessionNotFoundError,
    StreamUnauthorizedError,
)
from ._events_core import (
    ABNORMAL_CLOSURE,
    Action,
    Reconnector,
    SeqTracker,
    Verdict,
    close_action,
    decode_event,
    handshake_action,
)
from ._models import EventType, SessionEvent
from ._proxy import proxy_for
from ._retry import RetryPolicy, parse_retry_after
from ._transport import Transport, status_error
from .resources.sessions import session_path

__all__ = ["EventStream"]

logger = logging.getLogger("voice_async")


class _RedactCredentials(logging.Filter):
    """python-websockets logs every handshake header at DEBUG: mask the key.

    Its header lines are ``"> %s: %s" % (name, value)``; the value of a
    credential header is replaced before any handler formats the record.
    """

    SECRET_HEADERS = frozenset({"authorization", "x-admin-key", "cookie", "proxy-authorization"})

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and isinstance(args[0], str)
            and args[0].lower() in self.SECRET_HEADERS
        ):
            record.args = (args[0], "****")
        return True


#: The logger handed to python-websockets: its records (frames, handshakes,
#: keepalive) appear under ``voice_async.websockets``, credentials masked.
ws_logger = logging.getLogger("voice_async.websockets")
ws_logger.addFilter(_RedactCredentials())

_WS_AGENT = f" websockets/{websockets_version}"
#: Closes *we* send when the peer stops answering (keepalive timeout, 1011) are
#: a dead connection; other codes we send (1009 message too big, 1002/1007
#: protocol errors) would fail the same way after a reconnect.
_OUR_TRANSIENT_CLOSES = frozenset({1000, 1001, 1006, 1011})
_FINAL_ERRORS: dict[Action, type[EventStreamError]] = {
    Action.UNAUTHORIZED: StreamUnauthorizedError,
    Action.NOT_FOUND: SessionNotFoundError,
    Action.FAIL: EventStreamError,
}
_DELIVER, _DUPLICATE = Verdict.DELIVER, Verdict.DUPLICATE
_ENDED = EventType.SESSION_ENDED


def _seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidRequestError(name, f"must be a positive number of seconds, got {value!r}")
    return float(value)


def _optional_seconds(name: str, value: float | None) -> float | None:
    """``None`` disables the timeout or keepalive, as in python-websockets."""
    return None if value is None else _seconds(name, value)


def _count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(name, f"must be an int >= {minimum}, got {value!r}")
    return value


def _close_code(exc: ConnectionClosed) -> int:
    """The code that explains a close: the peer's, or ours when we failed it."""
    if exc.rcvd is not None:
        return exc.rcvd.code
    if exc.sent is not None and exc.sent.code not in _OUR_TRANSIENT_CLOSES:
        return exc.sent.code
    return ABNORMAL_CLOSURE


async def _close_draining(ws: ClientConnection) -> None:
    """A normal 1000 close that does not stall on a full receive buffer.

    python-websockets stops reading the socket once ``max_queue`` frames wait
    unread, so after ``break`` out of a busy stream the peer's close frame
    would stay unread and ``close()`` would wait out ``close_timeout``
    (python-websockets#1555).  So frames still in flight are read and dropped
    while closing (nobody will consume them); ``close_timeout`` still bounds
    it all.  When another task is reading this connection, its reads drain.
    """
    closing = asyncio.ensure_future(ws.close())
    try:
        while not closing.done():
            try:
                await ws.recv()
            except (ConnectionClosed, RuntimeError):  # closed, or another reader drains
                break
        await closing
    except BaseException:
        closing.cancel()
        ws.transport.abort()
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        frame = exc.rcvd or exc.sent
        reason = f" ({frame.reason})" if frame is not None and frame.reason else ""
        return f"connection closed with code {_close_code(exc)}{reason}"
    if isinstance(exc, InvalidStatus):
        return f"handshake refused with HTTP {exc.response.status_code}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class EventStream:
    """The live events of one session, as typed :class:`SessionEvent` values.

    Use it either way::

        async with client.sessions.events(session_id) as stream:
            async for event in stream:
                ...

        async for event in client.sessions.events(session_id, after_seq=41):
            ...

    Iteration ends after ``session.ended`` (the server then closes with 1000).
    Transient drops (1001/1006/1011/1012/1013, refused or timed-out
    connections, handshake 429/5xx) reconnect with backoff and resume after
    :attr:`last_seq`, so each event is seen once, in order.  Final failures
    raise: :class:`StreamUnauthorizedError` (4001, HTTP 401/403),
    :class:`SessionNotFoundError` (4004, HTTP 404), :class:`EventGapError`
    (the server no longer buffers the events needed to resume), and
    :class:`EventStreamError` once ``max_reconnects`` consecutive reconnects
    failed (its ``__cause__`` is the last failure).

    Options: ``ping_interval``/``ping_timeout`` (keepalive: a peer that stops
    answering is treated as a drop), ``open_timeout``, ``close_timeout``,
    ``max_reconnects`` (consecutive failures before giving up; 0 disables
    reconnecting), ``initial_backoff``/``max_backoff`` (full-jitter
    exponential backoff), ``healthy_after`` (seconds a connection must live,
    when it delivers nothing new, before the backoff resets),
    ``max_queue`` (frames buffered before the socket stops being read: the
    memory bound for a slow consumer), ``max_size`` (largest frame in bytes),
    ``compression`` (offer permessage-deflate), ``allow_initial_gap`` (a fresh
    stream accepts whatever first seq the server still has).

    A consumer that stalls longer than ``ping_interval + ping_timeout`` on one
    event also stalls the reading of pongs, so the connection is then taken
    for dead and replaced: harmless (the new one resumes after ``last_seq``),
    but raise ``ping_timeout`` for consumers that block that long.

    Leaving the ``async for`` (or the ``async with``) closes the connection;
    a stream is iterated once.  Prefer ``async with`` (or
    ``contextlib.aclosing``) where prompt closing after ``break`` must not
    depend on garbage collection.
    """

    def __init__(
        self,
        transport: Transport,
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
    ) -> None:
        self._transport = transport
        self._session_id = session_id
        self._url = transport.ws_url(session_path(session_id) + "/events")
        self._after_seq = check.offset(after_seq, "after_seq")
        self._tracker = SeqTracker(after_seq, allow_initial_gap=allow_initial_gap)
        self._ping_interval = _optional_seconds("ping_interval", ping_interval)
        self._ping_timeout = _optional_seconds("ping_timeout", ping_timeout)
        self._open_timeout = _optional_seconds("open_timeout", open_timeout)
        self._close_timeout = _optional_seconds("close_timeout", close_timeout)
        policy = RetryPolicy(
            max_retries=_count("max_reconnects", max_reconnects, 0),
            initial_backoff=_seconds("initial_backoff", initial_backoff),
            max_backoff=_seconds("max_backoff", max_backoff),
        )
        healthy = _seconds("healthy_after", healthy_after)
        self._reconnector = Reconnector(policy, healthy, transport.runtime.random)
        self._max_queue = _count("max_queue", max_queue, 1)
        self._max_size = _count("max_size", max_size, 1)
        self._compression = compression
        self._sleep = transport.runtime.sleep
        self._ws: ClientConnection | None = None
        self._seq_at_open = after_seq
        self._finished = False
        self._aborted = False
        self._iterating = False
        self.connects = 0
        """Successful handshakes so far (``connects - 1`` reconnects)."""

    # -- what callers may read -----------------------------------------------

    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def after_seq(self) -> int:
        """The ``after_seq`` this stream started from."""
        return self._after_seq

    @property
    def last_seq(self) -> int:
        """Seq of the last event delivered: persist it to resume later."""
        return self._tracker.last_seq

    @property
    def duplicates(self) -> int:
        """Replayed events dropped because they had been delivered already."""
        return self._tracker.duplicates

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)

    @property
    def closed(self) -> bool:
        """True once the stream is over (ended, failed, closed or cancelled)."""
        return self._finished and self._ws is None

    @property
    def url(self) -> URL:
        """Where the next connection goes (``after_seq`` included, no credentials)."""
        return self._url.with_query(after_seq=self._tracker.last_seq)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open" if self._ws is not None else "idle"
        return (
            f"<EventStream session_id={self._session_id!r} last_seq={self.last_seq} "
            f"reconnects={self.reconnects} {state}>"
        )

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> EventStream:
        """Connect now, so a bad key or unknown session fails at ``async with``."""
        if self._ws is None:
            await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, asyncio.CancelledError):
            self._abort()
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection (normal 1000 close) and end the stream.  Idempotent."""
        self._finished = True
        ws, self._ws = self._ws, None
        if ws is None:
            return
        keepalive: asyncio.Task[None] | None = getattr(ws, "keepalive_task", None)
        if self._aborted:
            await ws.wait_closed()
        else:
            await _close_draining(ws)
        if keepalive is not None and not keepalive.done():
            await asyncio.wait({keepalive}, timeout=1.0)

    def _abort(self) -> None:
        """Drop the TCP connection now: used when the consumer is cancelled."""
        self._finished = True
        if self._ws is not None and not self._aborted:
            self._aborted = True
            self._ws.transport.abort()

    # -- iteration -----------------------------------------------------------

    def __aiter__(self) -> AsyncGenerator[SessionEvent, None]:
        if self._iterating:
            raise RuntimeError("this EventStream is already being iterated")
        self._iterating = True
        return self._events()

    async def _events(self) -> AsyncGenerator[SessionEvent, None]:
        """The hot loop: one ``recv``, one decode, one seq check per event."""
        tracker = self._tracker
        try:
            while True:
                ws = self._ws
                if ws is None:
                    ws = await self._connect()
                    if ws is None:
                        return
                try:
                    frame = await ws.recv()
                except ConnectionClosed as exc:
                    await self._after_close(exc)
                    continue
                event = decode_event(frame)
                verdict = tracker.accept(event.seq)
                if verdict is not _DELIVER:
                    if verdict is _DUPLICATE:
                        continue
                    raise self._gap_error(event.seq)
                yield event
                if event.type is _ENDED:
                    return
        except asyncio.CancelledError:
            self._abort()
            raise
        finally:
            await self.aclose()

    # -- connecting and reconnecting -----------------------------------------

    async def _connect(self) -> ClientConnection | None:
        """Open a connection resuming after ``last_seq``, retrying transient failures.

        Returns ``None`` when the stream was closed meanwhile.
        """
        while not self._finished:
            try:
                ws = await self._open()
            except (OSError, TimeoutError, asyncio.TimeoutError, InvalidHandshake) as exc:
                retry_after = self._check_open_failure(exc)
                await self._backoff(exc, retry_after=retry_after)
                continue
            if self._finished:  # aclose() ran while we were connecting
                await ws.close()
                return None
            self._ws = ws
            self.connects += 1
            self._seq_at_open = self._tracker.last_seq
            self._reconnector.opened(asyncio.get_running_loop().time())
            return ws
        return None

    async def _open(self) -> ClientConnection:
        transport = self._transport
        if transport.closed:
            raise ClientClosedError("this AsyncVoiceClient is closed; create a new one")
        headers = transport.headers("tenant")
        user_agent = headers.pop("User-Agent") + _WS_AGENT
        headers.pop("Accept", None)
        url = self.url
        return await connect(
            str(url),
            proxy=proxy_for(transport.config.proxy, url),  # the REST rule, never websockets' own
            additional_headers=headers,
            user_agent_header=user_agent,
            compression="deflate" if self._compression else None,
            open_timeout=self._open_timeout,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            close_timeout=self._close_timeout,
            max_size=self._max_size,
            max_queue=self._max_queue,
            logger=ws_logger,
        )

    def _check_open_failure(self, exc: Exception) -> float | None:
        """Raise if a failed handshake is final; else the server's ``Retry-After``."""
        if isinstance(exc, InvalidStatus):
            response = exc.response
            action = handshake_action(response.status_code)
            if action is Action.RECONNECT:
                return parse_retry_after(response.headers)
            api_error = status_error(
                response.status_code,
                response.headers,
                bytes(response.body or b""),
                self._transport.secrets,
            )
            raise _FINAL_ERRORS[action](
                f"events stream for {self._session_id}: handshake refused: {api_error}"
            ) from api_error
        if isinstance(exc, (SecurityError, ssl.SSLCertVerificationError)):
            raise EventStreamError(
                f"events stream for {self._session_id}: {_describe(exc)}"
            ) from exc
        return None

    async def _after_close(self, exc: ConnectionClosed) -> None:
        """The connection closed: end, fail, or back off before reconnecting."""
        self._ws = None
        if self._finished:  # we closed it (aclose() from another task)
            return
        code = _close_code(exc)
        action = close_action(code)
        if action is Action.END:
            # session.ended returns from the loop before any close is read, so
            # this is a 1000 without it: a replay already past the end, or a
            # server that ended the stream early.  Worth a line in the log.
            logger.info(
                "events stream %s: closed by the server (1000) at after_seq=%d",
                self._session_id,
                self._tracker.last_seq,
            )
            self._finished = True
            return
        if action is not Action.RECONNECT:
            raise _FINAL_ERRORS[action](
                f"events stream for {self._session_id}: {_describe(exc)}", close_code=code
            ) from exc
        await self._backoff(exc, code=code)

    async def _backoff(
        self, cause: BaseException, *, code: int | None = None, retry_after: float | None = None
    ) -> None:
        reconnector = self._reconnector
        delay = reconnector.next_delay(
            asyncio.get_running_loop().time(),
            progressed=self._tracker.last_seq > self._seq_at_open,
            code=code,
            retry_after=retry_after,
        )
        if delay is None:
            self._finished = True
            waited = f" (server asked to wait {retry_after:.0f}s)" if retry_after else ""
            raise EventStreamError(
                f"events stream for {self._session_id}: giving up after "
                f"{reconnector.failures} consecutive failed reconnects{waited}; "
                f"last error: {_describe(cause)}",
                close_code=code,
            ) from cause
        logger.info(
            "events stream %s: %s; reconnecting in %.2fs (attempt %d of %d, after_seq=%d)",
            self._session_id,
            _describe(cause),
            delay,
            reconnector.failures,
            reconnector.policy.max_retries,
            self._tracker.last_seq,
        )
        if delay > 0:
            await self._sleep(delay)

    def _gap_error(self, got_seq: int) -> EventGapError:
        expected = self._tracker.expected_seq
        return EventGapError(
            f"events stream for {self._session_id}: expected seq {expected}, got {got_seq}: "
            f"events {expected}..{got_seq - 1} are no longer buffered by the server; "
            f"resume with after_seq={got_seq - 1} to continue from what it still has",
            expected_seq=expected,
            got_seq=got_seq,
        )
