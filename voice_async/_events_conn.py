"""Connection-level helpers of the live-events stream: opening, closing, describing, masking.

Kept apart from :mod:`._events` (the stream's reconnect loop) because none of
it is about *events*: how long a handshake may take and which refused
handshake is final, how to close a python-websockets connection without
stalling, which close code explains a failure, and how to keep a secret the
server echoes (in a close reason, a handshake header or body, a DEBUG log
line) out of every message, log record and traceback.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus, SecurityError
from websockets.frames import Close
from websockets.http11 import Response

from . import _validate as check
from ._config import Timeout
from ._errors import EventStreamError, SessionNotFoundError, StreamUnauthorizedError
from ._events_core import ABNORMAL_CLOSURE, Action, handshake_action, seconds
from ._redact import redact
from ._response import status_error
from ._retry import parse_retry_after

__all__ = [
    "MaskingLogger",
    "close_code",
    "close_draining",
    "describe",
    "handshake_timeout",
    "open_failure",
    "safe_cause",
]

#: Closes *we* send when the peer stops answering (keepalive timeout, 1011) are
#: a dead connection; other codes we send (1009 message too big, 1002/1007
#: protocol errors) would fail the same way after a reconnect.
_OUR_TRANSIENT_CLOSES = frozenset({1000, 1001, 1006, 1011})


class MaskingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to python-websockets, one per stream: secrets masked.

    python-websockets logs every handshake header (``"> %s: %s" % (name,
    value)``), close reasons and errors at DEBUG.  A server can echo the key
    in any of them, so every argument that contains a configured secret is
    masked, and credential headers are masked by name whatever their value.
    """

    SECRET_HEADERS = frozenset({"authorization", "x-admin-key", "cookie", "proxy-authorization"})

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__(ws_logger, {})
        self.secrets = secrets

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        if len(args) == 2 and isinstance(args[0], str) and args[0].lower() in self.SECRET_HEADERS:
            args = (args[0], "****")
        masked = tuple(self._clean(arg) for arg in args)
        self.logger.log(level, self._clean(msg), *masked, **kwargs)

    def _clean(self, value: object) -> object:
        if isinstance(value, (int, float)) or value is None:
            return value
        text = str(value)
        cleaned = redact(text, self.secrets)
        return value if cleaned == text else cleaned


#: Where python-websockets' records (frames, handshakes, keepalive) appear,
#: through each stream's :class:`MaskingLogger`.
ws_logger = logging.getLogger("voice_async.websockets")


def close_code(exc: ConnectionClosed) -> int:
    """The code that explains a close: the peer's, or ours when we failed it."""
    if exc.rcvd is not None:
        return exc.rcvd.code
    if exc.sent is not None and exc.sent.code not in _OUR_TRANSIENT_CLOSES:
        return exc.sent.code
    return ABNORMAL_CLOSURE


async def close_draining(ws: ClientConnection) -> None:
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


def describe(exc: BaseException, secrets: tuple[str, ...]) -> str:
    """One line about a failure, for messages and logs; secrets masked."""
    if isinstance(exc, ConnectionClosed):
        frame = exc.rcvd or exc.sent
        reason = f" ({frame.reason})" if frame is not None and frame.reason else ""
        text = f"connection closed with code {close_code(exc)}{reason}"
    elif isinstance(exc, InvalidStatus):
        text = f"handshake refused with HTTP {exc.response.status_code}"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return redact(text, secrets)


def safe_cause(exc: BaseException, secrets: tuple[str, ...]) -> BaseException | None:
    """``exc`` to chain as ``__cause__``, unless it would show a secret.

    Its message and its attributes (a refused handshake keeps the server's
    response, a close keeps its reason) are checked.  A close or a refused
    handshake that echoes the key is chained as a copy with it masked;
    anything else that would show a secret is not chained at all.
    """
    text = f"{exc} {vars(exc)!r}"
    if redact(text, secrets) == text:
        return exc
    if isinstance(exc, ConnectionClosed):

        def clean(frame: Close | None) -> Close | None:
            return None if frame is None else Close(frame.code, redact(frame.reason, secrets))

        return type(exc)(clean(exc.rcvd), clean(exc.sent), exc.rcvd_then_sent)
    if isinstance(exc, InvalidStatus):
        response = exc.response
        pairs = response.headers.raw_items()
        headers = Headers((redact(k, secrets), redact(v, secrets)) for k, v in pairs)
        body = redact(bytes(response.body or b"").decode("utf-8", "replace"), secrets).encode()
        return InvalidStatus(Response(response.status_code, response.reason_phrase, headers, body))
    return None


def handshake_timeout(timeout: float | Timeout | None, default: Timeout) -> float | None:
    """How long one handshake may take: the call's ``timeout``, else the client's.

    As for HTTP, a :class:`Timeout`'s ``connect`` bounds getting connected; a
    plain number bounds the handshake itself.
    """
    if timeout is None:
        return default.connect
    if isinstance(timeout, Timeout):
        return check.timeout(timeout).connect
    return seconds("timeout", timeout)


def open_failure(exc: Exception, session_id: str, secrets: tuple[str, ...]) -> float | None:
    """Raise if a failed handshake is final; else the server's ``Retry-After`` (or None).

    Called outside the ``except`` that caught ``exc``, so the masked error
    raised here does not carry the raw handshake failure as context.
    """
    if isinstance(exc, InvalidStatus):
        response = exc.response
        action = handshake_action(response.status_code)
        if action is Action.RECONNECT:
            return parse_retry_after(response.headers)
        body = bytes(response.body or b"")  # status_error masks what the server echoed
        api_error = status_error(response.status_code, response.headers, body, secrets)
        message = f"events stream for {session_id}: handshake refused: {api_error}"
        if action is Action.FAIL:
            raise EventStreamError(message) from api_error
        status_class = (
            StreamUnauthorizedError if action is Action.UNAUTHORIZED else SessionNotFoundError
        )
        raise status_class(
            message,
            status=api_error.status,
            request_id=api_error.request_id,
            body_excerpt=api_error.body_excerpt,
            headers=api_error.headers,
        ) from api_error
    if isinstance(exc, (SecurityError, ssl.SSLCertVerificationError)):
        raise EventStreamError(
            f"events stream for {session_id}: {describe(exc, secrets)}"
        ) from safe_cause(exc, secrets)
    return None
