"""OpenTelemetry tracing for voice_async: ``pip install 'voice-async[otel]'``.

::

    from voice_async.contrib.opentelemetry import VoiceAsyncInstrumentor

    VoiceAsyncInstrumentor().instrument(tracer_provider=provider)  # every client
    ...
    VoiceAsyncInstrumentor().uninstrument()

Follows the ``BaseInstrumentor`` convention of the opentelemetry-instrumentation
packages (a singleton; ``instrument()`` with no arguments uses the global
tracer provider, so ``opentelemetry-instrument`` can call it too).  Each
*logical* call is one ``CLIENT`` span named after the operation
(``make_call``, ``sessions.get``, ``admin.get_runtime_config``...), however
many attempts it took: the stable HTTP client attributes
(``http.request.method``, ``server.address``, ``server.port``,
``url.template``, ``http.response.status_code``,
``http.request.resend_count``, ``error.type``) describe it, and each retry is
a span event.  The W3C ``traceparent`` (whatever the configured propagator
injects) goes out on every attempt, so the server's spans join the trace.

Built on the transport's one tracing seam (:func:`voice_async._hooks.set_tracer`):
nothing is monkey-patched, ``uninstrument()`` just empties the seam, and an
uninstrumented client pays one ``is None`` check per call.  ``voice_async``
itself never imports OpenTelemetry.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

try:
    from opentelemetry import context, propagate, trace
    from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
        BaseInstrumentor,
    )
    from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
    from opentelemetry.semconv.attributes.http_attributes import (
        HTTP_REQUEST_METHOD,
        HTTP_REQUEST_RESEND_COUNT,
        HTTP_RESPONSE_STATUS_CODE,
    )
    from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
    from opentelemetry.semconv.schemas import Schemas
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "voice_async.contrib.opentelemetry needs the otel extra: pip install 'voice-async[otel]'"
    ) from exc

from .. import _hooks
from .._errors import APIStatusError
from .._hooks import CallInfo, ResponseInfo, RetryInfo
from .._version import __version__

__all__ = ["VoiceAsyncInstrumentor"]

#: ``url.template`` is still "development" in the semantic conventions, so
#: the semconv package keeps it out of its stable modules: named here.
URL_TEMPLATE = "url.template"


class VoiceAsyncInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Trace every ``AsyncVoiceClient`` call; see the module docstring."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("voice-async >= 0.1",)

    def _instrument(self, **kwargs: Any) -> None:
        tracer = trace.get_tracer(
            __name__,
            __version__,
            kwargs.get("tracer_provider"),
            schema_url=Schemas.V1_26_0.value,
        )
        _hooks.set_tracer(_Tracer(tracer))

    def _uninstrument(self, **kwargs: Any) -> None:
        _hooks.set_tracer(None)


class _Tracer:
    """The :class:`~voice_async._hooks.CallTracer` that makes one span per call."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start(self, call: CallInfo, headers: dict[str, str]) -> _Span:
        span = self._tracer.start_span(
            call.operation,
            kind=trace.SpanKind.CLIENT,
            attributes={
                HTTP_REQUEST_METHOD: call.method,
                SERVER_ADDRESS: call.server_address,
                SERVER_PORT: call.server_port,
                URL_TEMPLATE: call.url_template,
            },
        )
        ctx = trace.set_span_in_context(span)
        propagate.inject(headers, context=ctx)
        # Current for the call's duration, so spans made meanwhile (hooks,
        # an instrumented aiohttp) are its children.
        return _Span(span, context.attach(ctx))


class _Span:
    """One logical call's span: answers, retries, then the outcome."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: trace.Span, token: object) -> None:
        self._span = span
        self._token = token

    def response(self, info: ResponseInfo) -> None:
        self._span.set_attribute(HTTP_RESPONSE_STATUS_CODE, info.status)

    def retry(self, info: RetryInfo) -> None:
        attributes: dict[str, str | int | float] = {
            "voice_async.attempt": info.attempt,
            "voice_async.retry_delay_s": info.delay,
            ERROR_TYPE: _error_type(info.error),
        }
        if info.status is not None:
            attributes[HTTP_RESPONSE_STATUS_CODE] = info.status
        self._span.add_event("retry", attributes)

    def end(self, retries: int, error: BaseException | None) -> None:
        span = self._span
        if retries:
            span.set_attribute(HTTP_REQUEST_RESEND_COUNT, retries)
        if error is not None:
            span.set_attribute(ERROR_TYPE, _error_type(error))
            # The SDK's error messages are already masked; no traceback is
            # attached (record_exception would add one).
            span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)[:300]))
        context.detach(self._token)  # type: ignore[arg-type]
        span.end()


def _error_type(error: BaseException) -> str:
    """The status code for an HTTP error (as the conventions ask), else the class name."""
    if isinstance(error, APIStatusError):
        return str(error.status)
    return type(error).__qualname__
