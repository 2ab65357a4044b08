"""The events WebSocket: replay from ``after_seq``, then live, then close 1000.

Failures after the handshake use the contract's close codes: the handshake is
accepted and then closed with ``4001`` (bad or missing Bearer key) or ``4004``
(unknown session), because browsers and most WebSocket clients cannot read an
HTTP error status from a refused handshake. Before the upgrade, a request
without ``Upgrade: websocket`` or with a bad ``after_seq`` gets a plain HTTP
``400`` (the request is malformed, whoever sends it).

Speed: frames are pre-serialised strings, compression is off, and up to 512
frames go out in one transport write (see ``_write_frames``); the loop yields
to the event loop after each batch and waits when the socket applies
back-pressure.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from ._auth import tenant_authorized
from ._errors import ApiError
from ._events import EventSource
from ._state import EmulatorState
from ._util import REQUEST_ID
from ._validation import parse_after_seq

CLOSE_UNAUTHORIZED = 4001
CLOSE_UNKNOWN_SESSION = 4004
_BATCH = 512  # frames per transport write
_MEDIUM_HEADER = struct.Struct("!BBH")
_LONG_HEADER = struct.Struct("!BBQ")


async def events_handler(state: EmulatorState, request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(compress=False, timeout=2.0, max_msg_size=1 << 16)
    if not ws.can_prepare(request).ok:
        raise ApiError(400, "this endpoint needs a WebSocket upgrade")
    after_seq = parse_after_seq(request.query)
    authorized = tenant_authorized(state, request)
    source = state.sessions.events(request.match_info["session_id"]) if authorized else None
    ws.headers["x-request-id"] = REQUEST_ID.get()
    await ws.prepare(request)
    state.stats.ws_connects += 1
    if not authorized:
        await ws.close(code=CLOSE_UNAUTHORIZED, message=b"unauthorized")
    elif source is None:
        await ws.close(code=CLOSE_UNKNOWN_SESSION, message=b"unknown session")
    else:
        await _stream(state, request, ws, source, after_seq)
    return ws


async def _consume(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) client frames: this answers pings and notices a close."""
    async for msg in ws:
        if msg.type is WSMsgType.ERROR:
            return


async def _stream(
    state: EmulatorState,
    request: web.Request,
    ws: web.WebSocketResponse,
    source: EventSource,
    seq: int,
) -> None:
    reader = asyncio.ensure_future(_consume(ws))
    try:
        await _pump(state, request, ws, source, seq, reader)
    except ConnectionError:
        pass  # the client went away mid-send
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def _pump(
    state: EmulatorState,
    request: web.Request,
    ws: web.WebSocketResponse,
    source: EventSource,
    seq: int,
    reader: asyncio.Future[None],
) -> None:
    drop = state.faults.ws_drop
    sent = 0
    while not reader.done():
        if state.closing.is_set():
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"emulator shutting down")
            return
        if seq < source.length:
            last = min(source.length, seq + _BATCH)
            if drop is not None:
                last = min(last, seq + drop[0] - sent)
            if not _write_frames(request, source, seq + 1, last):
                return  # the client went away
            sent, seq = sent + last - seq, last
            if drop is not None and sent >= drop[0]:
                await _drop(state, request, ws, drop[1])
                return
            await request.writer.drain()  # back-pressure from a slow reader
            await asyncio.sleep(0)  # let the reader task (pings, close) run
        elif source.ended:
            await ws.close(code=WSCloseCode.OK)
            return
        else:
            await _wait_for_more(state, source, seq, reader)


def encode_text_frame(text: str) -> bytes:
    """An unmasked, uncompressed, final text frame (RFC 6455 5.2), as servers send."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return _MEDIUM_HEADER.pack(0x81, 126, size) + payload
    return _LONG_HEADER.pack(0x81, 127, size) + payload


def _write_frames(request: web.Request, source: EventSource, first: int, last: int) -> bool:
    """Write frames ``first..last`` in one transport write; False if the peer is gone.

    Why not ``ws.send_str`` per event: that costs one ``send()`` syscall and a
    frame-builder call per event, which made the emulator, not the client,
    the bottleneck of streaming benchmarks. Whole frames are written in order
    on the same transport aiohttp uses, so its own close/pong frames still
    land between complete frames.
    """
    transport = request.transport
    if transport is None or transport.is_closing():
        return False
    frame = source.frame
    transport.write(b"".join([encode_text_frame(frame(seq)) for seq in range(first, last + 1)]))
    return True


async def _wait_for_more(
    state: EmulatorState, source: EventSource, seq: int, reader: asyncio.Future[None]
) -> None:
    more = asyncio.ensure_future(source.wait_for_more(seq))
    closing = asyncio.ensure_future(state.closing.wait())
    waiters: set[asyncio.Future[Any]] = {more, closing, reader}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (more, closing):
            task.cancel()
        await asyncio.gather(more, closing, return_exceptions=True)


async def _drop(
    state: EmulatorState, request: web.Request, ws: web.WebSocketResponse, mode: str
) -> None:
    state.stats.ws_drops += 1
    if mode == "abrupt":
        transport = request.transport
        if transport is not None:
            transport.close()  # flushes what was sent, then FIN: no close frame (1006)
        return
    await ws.close(code=int(mode), message=b"injected drop")
