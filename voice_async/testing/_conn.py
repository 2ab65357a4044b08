"""Connection-level defences: slow clients and requests aiohttp cannot parse.

An emulator is often left running on a shared machine or a CI host, so it
has to survive what any HTTP server meets:

* **Slowloris.** A connection must deliver its first request head within
  ``read_timeout`` seconds of opening, whether it sends nothing or one byte at
  a time; later heads on a kept-alive connection are bounded by aiohttp's
  keep-alive timeout (``idle_timeout``), which closes a connection that has
  not delivered a complete request when it fires. Bodies are read under
  ``read_timeout`` by the handlers (``read_body``), answering ``408``.
* **Unparseable requests** (a raw UTF-8 request target, a broken request line,
  oversized headers) are answered by aiohttp's protocol layer before any
  middleware runs, as ``text/plain``. :class:`GuardedHandler` answers them in
  the contract's error shape instead, and without an error-level traceback in
  the log (they are the client's fault).

Why a ``RequestHandler`` subclass: the head deadline needs the protocol's own
``connection_made``/``data_received`` events, and the error shape needs
``handle_error``; both are public methods of aiohttp's request handler.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from ._errors import ApiError, error_type_for, json_error
from ._util import new_request_id

logger = logging.getLogger("voice_async.testing")
_HEAD_END = b"\r\n\r\n"


class GuardedHandler(RequestHandler):
    """aiohttp's request handler plus a first-head deadline and JSON parse errors."""

    __slots__ = ("_head_tail", "_head_timer", "_read_timeout")

    def start_head_deadline(self, read_timeout: float) -> None:
        self._read_timeout = read_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(self._read_timeout, self._head_overdue)

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None:
            # Keep the last 3 bytes: the blank line may arrive split across reads.
            seen = self._head_tail + data
            if _HEAD_END in seen:
                self._head_timer.cancel()
                self._head_timer = None
            else:
                self._head_tail = seen[-3:]
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _head_overdue(self) -> None:
        self._head_timer = None
        logger.debug("closing a connection that sent no complete request head in time")
        self.force_close()

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            logger.error("emulator request failed", exc_info=exc)
            text = "internal emulator error"
        else:
            logger.debug("unparseable request: %s", message)
            text = "malformed HTTP request"
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send an error")
        response = json_error(
            status, error_type_for(status), text, headers={"x-request-id": new_request_id()}
        )
        response.force_close()
        return response


class GuardedFactory:
    """The protocol factory a site listens with: one GuardedHandler per connection."""

    def __init__(self, server: web.Server, read_timeout: float) -> None:
        self._server = server
        self._read_timeout = read_timeout

    def __call__(self) -> GuardedHandler:
        # The same arguments web.Server.__call__ gives aiohttp's own handler.
        server: Any = self._server
        handler = GuardedHandler(server, loop=server._loop, **server._kwargs)
        handler.start_head_deadline(self._read_timeout)
        return handler


class GuardedRunner(web.AppRunner):
    """An AppRunner whose sites create :class:`GuardedHandler` connections."""

    def __init__(self, app: web.Application, *, read_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._read_timeout = read_timeout

    @property
    def server(self) -> Any:
        inner = super().server
        return None if inner is None else GuardedFactory(inner, self._read_timeout)


async def read_body(request: web.Request, read_timeout: float) -> bytes:
    """The request body, or ``408`` if the client sends it too slowly."""
    try:
        return await asyncio.wait_for(request.read(), read_timeout)
    except asyncio.TimeoutError:
        # Close: the rest of the body may never come, and must not be waited for.
        raise ApiError(408, "request body not received in time", close_connection=True) from None
