"""Event hooks and the tracing seam: how code outside the SDK watches its calls.

Two audiences, one set of small frozen info objects:

* users pass ``event_hooks={"request": [...], "response": [...], ...}`` to
  :class:`AsyncVoiceClient` (httpx's habit): async callables that receive an
  info object.  A hook that raises never breaks the call it watches: its
  failure is logged once per hook at WARNING (masked, no traceback, which
  could quote a secret), later failures of the same hook at DEBUG.
* an instrumentation (``voice_async.contrib.opentelemetry``) installs one
  :class:`CallTracer` with :func:`set_tracer`; it sees every logical call of
  every client, may add headers (``traceparent``) and must not raise.

Nothing here costs anything when neither is configured: the transport checks
``transport.hooks is None and tracer() is None`` once per call and then runs
the plain path.  Info objects carry the URL *template*
(``/api/v1/voice-sessions/{session_id}``), never the ids, and headers masked with the
client's secrets.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs
from multidict import CIMultiDictProxy

from ._errors import APIError, APIStatusError, InvalidRequestError
from ._redact import redact, redact_headers

__all__ = [
    "HOOK_NAMES",
    "STREAM_URL_TEMPLATE",
    "CallInfo",
    "CallSpan",
    "CallTracer",
    "EventHooks",
    "RequestInfo",
    "ResponseInfo",
    "RetryInfo",
    "StreamConnectInfo",
    "StreamGiveUpInfo",
    "StreamReconnectInfo",
    "set_tracer",
    "tracer",
]

logger = logging.getLogger("voice_async")

#: Every hook name ``event_hooks`` accepts.
HOOK_NAMES = (
    "request",
    "response",
    "retry",
    "stream_connect",
    "stream_reconnect",
    "stream_give_up",
)
Hook = Callable[[Any], Awaitable[None] | None]
#: The ``url_template`` of the stream hooks' info objects.
STREAM_URL_TEMPLATE = "/api/v1/voice-sessions/{session_id}/events"


# -- info objects ------------------------------------------------------------


@attrs.frozen
class CallInfo:
    """One logical call (all its attempts): what a tracer names a span after."""

    operation: str  #: ``"make_call"``, ``"sessions.get"``, ``"admin.get_runtime_config"``...
    method: str
    url_template: str  #: ``/api/v1/voice-sessions/{session_id}``: ids left out
    server_address: str
    server_port: int


@attrs.frozen
class RequestInfo:
    """Hook ``"request"``: an attempt is about to be sent (``attempt`` counts from 1)."""

    operation: str
    method: str
    url_template: str
    attempt: int


@attrs.frozen
class ResponseInfo:
    """Hook ``"response"``: an attempt got an HTTP answer (success or error status).

    ``elapsed`` is this attempt's seconds; ``headers`` a masked copy.
    Connection failures and timeouts have no response: see ``"retry"``.
    """

    operation: str
    method: str
    url_template: str
    attempt: int
    status: int
    elapsed: float
    request_id: str | None
    headers: CIMultiDictProxy[str]


@attrs.frozen
class RetryInfo:
    """Hook ``"retry"``: attempt ``attempt`` failed with ``error`` (already masked);
    the next one is sent after ``delay`` seconds."""

    operation: str
    method: str
    url_template: str
    attempt: int
    error: APIError
    delay: float
    status: int | None
    request_id: str | None


@attrs.frozen
class StreamConnectInfo:
    """Hook ``"stream_connect"``: an events WebSocket opened (``connects`` counts from 1)."""

    session_id: str
    url_template: str
    connects: int
    after_seq: int


@attrs.frozen
class StreamReconnectInfo:
    """Hook ``"stream_reconnect"``: the stream dropped (``error``, masked) and will
    reconnect after ``delay`` seconds, resuming after ``after_seq``."""

    session_id: str
    url_template: str
    attempt: int
    after_seq: int
    delay: float
    close_code: int | None
    error: str


@attrs.frozen
class StreamGiveUpInfo:
    """Hook ``"stream_give_up"``: the stream stops reconnecting and raises ``error``."""

    session_id: str
    url_template: str
    attempts: int
    after_seq: int
    error: APIError


# -- user hooks --------------------------------------------------------------


class EventHooks:
    """The validated ``event_hooks`` of one client; :meth:`dispatch` runs them.

    Built once per client, so a bad name or a non-callable is an
    :class:`InvalidRequestError` at construction, not at the first call.
    """

    __slots__ = ("_hooks", "_warned")

    def __init__(self, hooks: Mapping[str, Sequence[Hook]]) -> None:
        if not isinstance(hooks, Mapping):
            raise InvalidRequestError("event_hooks", "must be a mapping of hook name to a list")
        checked: dict[str, tuple[Hook, ...]] = {}
        for name, funcs in hooks.items():
            if name not in HOOK_NAMES:
                raise InvalidRequestError(
                    "event_hooks", f"unknown hook {name!r}; known: {', '.join(HOOK_NAMES)}"
                )
            if isinstance(funcs, (str, bytes)) or not isinstance(funcs, Sequence):
                raise InvalidRequestError("event_hooks", f"{name!r} must be a list of callables")
            for func in funcs:
                if not callable(func):
                    raise InvalidRequestError("event_hooks", f"{name!r}: {func!r} is not callable")
            if funcs:
                checked[name] = tuple(funcs)
        self._hooks = checked
        self._warned: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self._hooks)

    def __contains__(self, name: str) -> bool:
        return name in self._hooks

    async def dispatch(self, name: str, info: object, secrets: tuple[str, ...] = ()) -> None:
        """Await every hook registered under ``name`` in order; none can fail the caller.

        ``asyncio.CancelledError`` (a ``BaseException``) still propagates:
        cancelling the call must cancel its hooks too.
        """
        for hook in self._hooks.get(name, ()):
            try:
                result = hook(info)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._failed(name, hook, exc, secrets)

    def _failed(self, name: str, hook: Hook, exc: Exception, secrets: tuple[str, ...]) -> None:
        first = id(hook) not in self._warned
        self._warned.add(id(hook))
        logger.log(
            logging.WARNING if first else logging.DEBUG,
            "event hook %s %s raised %s: %s (ignored; the call goes on%s)",
            name,
            redact(getattr(hook, "__qualname__", type(hook).__qualname__), secrets),
            type(exc).__name__,
            redact(str(exc), secrets)[:300],
            "; later failures of this hook are logged at DEBUG" if first else "",
        )


# -- the tracing seam ----------------------------------------------------------


class CallSpan(Protocol):
    """What a tracer keeps for one logical call.  Its methods must not raise."""

    def response(self, info: ResponseInfo) -> None: ...

    def retry(self, info: RetryInfo) -> None: ...

    def end(self, retries: int, error: BaseException | None) -> None: ...


class CallTracer(Protocol):
    """An instrumentation: :meth:`start` is called once per logical call.

    ``headers`` are the request's own (sent with every attempt): add
    propagation headers there.
    """

    def start(self, call: CallInfo, headers: dict[str, str]) -> CallSpan: ...


_tracer: CallTracer | None = None


def set_tracer(tracer: CallTracer | None) -> None:
    """Install (or with ``None`` remove) the process-wide call tracer."""
    global _tracer
    _tracer = tracer


def tracer() -> CallTracer | None:
    return _tracer


# -- one observed call -----------------------------------------------------------


class CallObserver:
    """Hooks and tracer for one logical call; the transport drives it.

    Only created when a client has hooks or a tracer is installed, so the
    plain path allocates none of this.
    """

    __slots__ = ("_call", "_hooks", "_secrets", "_span", "_started", "retries")

    def __init__(
        self,
        call: CallInfo,
        headers: dict[str, str],
        hooks: EventHooks | None,
        secrets: tuple[str, ...],
    ) -> None:
        self._call = call
        self._hooks = hooks
        self._secrets = secrets
        active = _tracer
        self._span = active.start(call, headers) if active is not None else None
        self._started = 0.0
        self.retries = 0

    async def request(self, attempt: int) -> None:
        self._started = time.perf_counter()
        if self._hooks and "request" in self._hooks:
            c = self._call
            info = RequestInfo(c.operation, c.method, c.url_template, attempt)
            await self._hooks.dispatch("request", info, self._secrets)

    async def response(
        self, attempt: int, status: int, headers: Mapping[str, str], request_id: str | None
    ) -> None:
        """An answer arrived (the headers of an error are already masked)."""
        c = self._call
        info = ResponseInfo(
            c.operation,
            c.method,
            c.url_template,
            attempt,
            status,
            time.perf_counter() - self._started,
            request_id,
            redact_headers(headers, self._secrets),
        )
        if self._span is not None:
            self._span.response(info)
        if self._hooks and "response" in self._hooks:
            await self._hooks.dispatch("response", info, self._secrets)

    async def failed(self, attempt: int, error: APIError) -> None:
        """An attempt raised: report the answer if there was one."""
        if isinstance(error, APIStatusError):
            await self.response(attempt, error.status, error.headers, error.request_id)

    async def retry(self, attempt: int, error: APIError, delay: float) -> None:
        self.retries = attempt
        c = self._call
        info = RetryInfo(
            c.operation,
            c.method,
            c.url_template,
            attempt,
            error,
            delay,
            getattr(error, "status", None),
            getattr(error, "request_id", None),
        )
        if self._span is not None:
            self._span.retry(info)
        if self._hooks and "retry" in self._hooks:
            await self._hooks.dispatch("retry", info, self._secrets)

    def end(self, error: BaseException | None) -> None:
        if self._span is not None:
            self._span.end(self.retries, error)
