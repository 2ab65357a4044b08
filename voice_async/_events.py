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
from collections.abc import AsyncGenerator
from types import TracebackType

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.version import version as websockets_version
from yarl import URL

from . import _validate as check
from ._config import Timeout
from ._errors import (
    APIResponseValidationError,
    ClientClosedError,
    EventGapError,
    EventProtocolError,
    EventStreamError,
    InvalidRequestError,
    SessionNotFoundError,
    StreamUnauthorizedError,
)
from ._events_conn import (
    MaskingLogger,
    close_code,
    close_draining,
    describe,
    handshake_timeout,
    open_failure,
    safe_cause,
)
from ._events_core import (
    Action,
    EventStreamOptions,
    SeqTracker,
    Verdict,
    close_action,
    decode_event,
)
from ._hooks import STREAM_URL_TEMPLATE, StreamConnectInfo, StreamGiveUpInfo, StreamReconnectInfo
from ._models import EventType, SessionEvent
from ._paths import session_path
from ._proxy import proxy_for
from ._redact import redact
from ._transport import Transport

__all__ = ["EventStream", "EventStreamOptions"]

logger = logging.getLogger("voice_async")

_WS_AGENT = f" websockets/{websockets_version}"
_FINAL_ERRORS: dict[Action, type[EventStreamError]] = {
    Action.UNAUTHORIZED: StreamUnauthorizedError,
    Action.NOT_FOUND: SessionNotFoundError,
    Action.FAIL: EventStreamError,
}
_DELIVER, _DUPLICATE = Verdict.DELIVER, Verdict.DUPLICATE
_ENDED = EventType.SESSION_ENDED
_DEFAULT_OPTIONS = EventStreamOptions()


class EventStream:
    """The live events of one session, as typed :class:`SessionEvent` values.

    Use it either way::

        async with client.sessions.events(session_id) as stream:
            async for event in stream:
                ...

        async for event in client.sessions.events(session_id, after_seq=41):
            ...

    Iteration ends after ``session.ended``, and only then: every other close
    (1000 included), refused or timed-out connection and handshake 429/5xx
    reconnects with backoff and resumes after :attr:`last_seq`, so each event
    is seen once, in order.  Final failures raise:
    :class:`StreamUnauthorizedError` (4001, HTTP 401/403),
    :class:`SessionNotFoundError` (4004, HTTP 404), :class:`EventGapError`
    (the server no longer buffers the events needed to resume),
    :class:`EventProtocolError` (a frame of another session), and
    :class:`EventStreamError` once ``max_reconnects`` consecutive reconnects
    brought nothing new (its ``__cause__`` is the last failure).

    ``timeout`` bounds each handshake (the client's ``Timeout.connect`` by
    default); everything else is in :class:`EventStreamOptions`.

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
        timeout: float | Timeout | None = None,
        options: EventStreamOptions | None = None,
    ) -> None:
        self._transport = transport
        self._session_id = session_id
        self._url = transport.ws_url(session_path(session_id) + "/events")
        self._after_seq = check.offset(after_seq, "after_seq")
        if options is not None and not isinstance(options, EventStreamOptions):
            raise InvalidRequestError("options", f"must be EventStreamOptions, got {options!r}")
        self.options = options = options or _DEFAULT_OPTIONS
        self._open_timeout = handshake_timeout(timeout, transport.config.timeout)
        self._tracker = SeqTracker(after_seq, allow_initial_gap=options.allow_initial_gap)
        self._reconnector = options.reconnector(transport.runtime.random)
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
            await close_draining(ws)
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
        tracker, session_id = self._tracker, self._session_id
        bad_frame: APIResponseValidationError | None = None
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
                    closed = exc
                else:
                    event = decode_event(frame)
                    if event.session_id != session_id:
                        raise self._foreign_event(event)
                    verdict = tracker.accept(event.seq)
                    if verdict is not _DELIVER:
                        if verdict is _DUPLICATE:
                            continue
                        raise self._gap_error(event.seq)
                    yield event
                    if event.type is _ENDED:
                        return
                    continue
                # Outside the handler: an error raised for this close must not
                # carry the raw close (its reason may echo a secret) as context.
                await self._after_close(closed)
        except asyncio.CancelledError:
            self._abort()
            raise
        except APIResponseValidationError as exc:
            bad_frame = exc  # raised below, outside the handler (see _masked_frame_error)
        finally:
            await self.aclose()
        if bad_frame is not None:
            raise self._masked_frame_error(bad_frame)

    def _masked_frame_error(self, exc: APIResponseValidationError) -> APIResponseValidationError:
        """``exc`` as is, or a copy without its chain if a frame echoed a secret into it.

        Raised outside any ``except`` block so the original (whose message,
        excerpt or cause may quote the frame) is not kept as ``__context__``.
        """
        secrets = self._transport.secrets
        texts = (str(exc), str(exc.body_excerpt), repr(exc.__cause__), repr(exc.__context__))
        if all(redact(text, secrets) == text for text in texts):
            return exc
        return APIResponseValidationError(
            redact(str(exc), secrets),
            status=exc.status,
            request_id=exc.request_id,
            body_excerpt=redact(str(exc.body_excerpt), secrets),
        )

    # -- connecting and reconnecting -----------------------------------------

    async def _connect(self) -> ClientConnection | None:
        """Open a connection resuming after ``last_seq``, retrying transient failures.

        Returns ``None`` when the stream was closed meanwhile.
        """
        while not self._finished:
            try:
                ws = await self._open()
            except (OSError, TimeoutError, asyncio.TimeoutError, InvalidHandshake) as exc:
                failure: Exception = exc
            else:
                if self._finished:  # aclose() ran while we were connecting
                    await ws.close()
                    return None
                self._ws = ws
                self.connects += 1
                self._seq_at_open = self._tracker.last_seq
                self._reconnector.opened(self._transport.runtime.monotonic())
                info = StreamConnectInfo(
                    self._session_id, STREAM_URL_TEMPLATE, self.connects, self._seq_at_open
                )
                await self._transport.emit("stream_connect", info)
                return ws
            # Outside the handler, for the same reason as in _events().
            retry_after = open_failure(failure, self._session_id, self._transport.secrets)
            await self._backoff(failure, retry_after=retry_after)
        return None

    async def _open(self) -> ClientConnection:
        transport, options = self._transport, self.options
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
            compression="deflate" if options.compression else None,
            open_timeout=self._open_timeout,
            ping_interval=options.ping_interval,
            ping_timeout=options.ping_timeout,
            close_timeout=options.close_timeout,
            max_size=options.max_size,
            max_queue=options.max_queue,
            logger=MaskingLogger(transport.secrets),
        )

    async def _after_close(self, exc: ConnectionClosed) -> None:
        """The connection closed: end, fail, or back off before reconnecting."""
        self._ws = None
        if self._finished:  # we closed it (aclose() from another task)
            return
        code = close_code(exc)
        action = close_action(code)
        if action is not Action.RECONNECT:
            raise _FINAL_ERRORS[action](
                f"events stream for {self._session_id}: {self._describe(exc)}", close_code=code
            ) from self._safe_cause(exc)
        await self._backoff(exc, code=code)

    async def _backoff(
        self, cause: BaseException, *, code: int | None = None, retry_after: float | None = None
    ) -> None:
        reconnector = self._reconnector
        delay = reconnector.next_delay(
            self._transport.runtime.monotonic(),
            delivered=self._tracker.last_seq - self._seq_at_open,
            code=code,
            retry_after=retry_after,
        )
        session_id, after_seq = self._session_id, self._tracker.last_seq
        failures, described = reconnector.failures, self._describe(cause)
        if delay is None:
            self._finished = True
            waited = f" (server asked to wait {retry_after:.0f}s)" if retry_after else ""
            error = EventStreamError(
                f"events stream for {session_id}: giving up after {failures} "
                f"consecutive failed reconnects{waited}; last error: {described}",
                close_code=code,
            )
            error.__cause__ = self._safe_cause(cause)  # so the hook sees it too
            info = StreamGiveUpInfo(session_id, STREAM_URL_TEMPLATE, failures, after_seq, error)
            await self._transport.emit("stream_give_up", info)
            raise error from error.__cause__
        logger.info(
            "events stream %s: %s; reconnecting in %.2fs (attempt %d of %d, after_seq=%d)",
            session_id,
            described,
            delay,
            failures,
            reconnector.policy.max_retries,
            after_seq,
        )
        await self._transport.emit(
            "stream_reconnect",
            StreamReconnectInfo(
                session_id, STREAM_URL_TEMPLATE, failures, after_seq, delay, code, described
            ),
        )
        if delay > 0:
            await self._sleep(delay)

    def _foreign_event(self, event: SessionEvent) -> EventProtocolError:
        """A frame for another session: never yielded, the stream is not trusted."""
        self._finished = True
        return EventProtocolError(
            f"events stream for {self._session_id}: the server sent an event of session "
            f"{redact(event.session_id, self._transport.secrets)!r} (seq {event.seq}); "
            "nothing from this connection can be trusted"
        )

    def _describe(self, exc: BaseException) -> str:
        return describe(exc, self._transport.secrets)

    def _safe_cause(self, exc: BaseException) -> BaseException | None:
        return safe_cause(exc, self._transport.secrets)

    def _gap_error(self, got_seq: int) -> EventGapError:
        expected = self._tracker.expected_seq
        return EventGapError(
            f"events stream for {self._session_id}: expected seq {expected}, got {got_seq}: "
            f"events {expected}..{got_seq - 1} are no longer buffered by the server; "
            f"resume with after_seq={got_seq - 1} to continue from what it still has",
            expected_seq=expected,
            got_seq=got_seq,
        )
