"""Turning a :class:`._faults.FaultDecision` into what the client receives.

See :mod:`._faults` for what each kind means and where it applies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from ._errors import ApiError, error_body
from ._faults import FaultDecision, FaultKind
from ._state import EmulatorState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_TRUNCATED_JSON = b'{"data": [{"id": "vs_01JD8Z6Q0'


async def pause(state: EmulatorState, seconds: float) -> None:
    """Sleep ``seconds``, ending early when the emulator closes."""
    if seconds <= 0:
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(state.closing.wait(), seconds)


def drop_connection(request: web.Request) -> web.Response:
    """Close the TCP connection with no answer; the returned response is never sent."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=500)


def _server_error(status: int, message: str) -> web.Response:
    return web.json_response(error_body("server_error", message), status=status)


async def fault_response(
    state: EmulatorState, request: web.Request, kind: FaultKind
) -> web.StreamResponse:
    state.stats.faults_injected[kind.value] += 1
    if kind is FaultKind.RESET:
        return drop_connection(request)
    if kind is FaultKind.HANG:
        await pause(state, state.faults.hang_seconds)
        return drop_connection(request)
    if kind is FaultKind.SERVER_ERROR:
        return _server_error(500, "injected fault: internal server error")
    if kind is FaultKind.UNAVAILABLE:
        return _server_error(503, "injected fault: service unavailable")
    if kind is FaultKind.RATE_LIMITED:
        retry_after = str(state.faults.retry_after)
        body = error_body("rate_limited", "injected fault: too many requests")
        return web.json_response(body, status=429, headers={"Retry-After": retry_after})
    if kind is FaultKind.BAD_GATEWAY_HTML:
        return web.Response(status=502, text=_BAD_GATEWAY_HTML, content_type="text/html")
    if kind is FaultKind.EMPTY_500:
        return web.Response(status=500, body=b"")
    return web.Response(status=200, body=_TRUNCATED_JSON, content_type="application/json")


async def answer(handler: Handler, request: web.Request) -> web.StreamResponse:
    """Run a handler, turning ApiError into its contract JSON response."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()


async def before(
    state: EmulatorState, request: web.Request, decision: FaultDecision
) -> web.StreamResponse | None:
    """Latency, then a ``before`` fault if one was decided."""
    await pause(state, decision.latency)
    if decision.kind is not None and decision.when == "before":
        return await fault_response(state, request, decision.kind)
    return None


async def after(
    state: EmulatorState,
    request: web.Request,
    decision: FaultDecision,
    response: web.StreamResponse,
) -> web.StreamResponse:
    """Replace the handler's answer with an ``after`` fault if one was decided."""
    if decision.kind is not None and decision.when == "after":
        return await fault_response(state, request, decision.kind)
    return response


async def with_faults(
    state: EmulatorState, request: web.Request, route: str, handler: Handler
) -> web.StreamResponse:
    """Generic fault wrapping for every route except make_call (which does it itself)."""
    decision = state.faults.decide(route)
    if route == "events" and decision.when == "after":
        # An upgraded WebSocket cannot be swapped for another answer.
        decision = FaultDecision(decision.kind, "before", decision.latency)
    early = await before(state, request, decision)
    if early is not None:
        return early
    response = await answer(handler, request)
    return await after(state, request, decision, response)
