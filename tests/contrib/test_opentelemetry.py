"""``VoiceAsyncInstrumentor``: spans, retries, propagation, against the emulator."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from voice_async import AsyncVoiceClient, InternalServerError, NotFoundError, Runtime, _hooks
from voice_async.contrib.opentelemetry import VoiceAsyncInstrumentor
from voice_async.testing import Emulator

from .conftest import no_wait

CALL = {"to": "+15555555678", "from_": "+15555551234", "agent_key": "support_primary"}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


def _client(emu: Emulator, base_url: str | None = None) -> AsyncVoiceClient:
    return AsyncVoiceClient(
        api_key=emu.api_key,
        admin_key=emu.admin_key,
        base_url=base_url or emu.base_url,
        runtime=Runtime(sleep=no_wait),
    )


async def test_a_retried_call_is_one_client_span_with_a_retry_event(
    emu: Emulator, spans: InMemorySpanExporter
) -> None:
    emu.faults.script("503", route="make_call")
    async with _client(emu) as c:
        await c.make_call(**CALL)
    (span,) = spans.get_finished_spans()
    assert span.name == "make_call" and span.kind is trace.SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    port = int(emu.base_url.rsplit(":", 1)[1].rstrip("/"))
    assert attributes == {
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.template": "/api/v1/make-call",
        "http.response.status_code": 201,
        "http.request.resend_count": 1,
    }
    (event,) = span.events
    assert event.name == "retry"
    assert dict(event.attributes or {})["http.response.status_code"] == 503
    assert dict(event.attributes or {})["error.type"] == "503"
    assert span.status.status_code is trace.StatusCode.UNSET
    assert emu.stats.requests["make_call"] == 2


async def test_failed_calls_carry_error_type_and_status(
    emu: Emulator, spans: InMemorySpanExporter
) -> None:
    emu.faults.script("500", "500", "500", route="make_call")
    async with _client(emu) as c:
        with pytest.raises(InternalServerError):
            await c.make_call(**CALL)
        with pytest.raises(NotFoundError):
            await c.admin.get_runtime_config("tn_unknown")
    failed, missing = spans.get_finished_spans()
    assert failed.status.status_code is trace.StatusCode.ERROR
    assert failed.attributes is not None and failed.attributes["error.type"] == "500"
    assert failed.attributes["http.request.resend_count"] == 2 and len(failed.events) == 2
    assert missing.name == "admin.get_runtime_config"
    assert missing.attributes is not None and missing.attributes["error.type"] == "404"
    assert missing.attributes["url.template"] == "/api/v1/admin/tenants/{tenant_id}/runtime-config"
    assert missing.attributes["http.response.status_code"] == 404
    assert "http.request.resend_count" not in missing.attributes
    assert emu.api_key not in str(failed.status.description)


async def test_a_connection_failure_is_typed_by_class(spans: InMemorySpanExporter) -> None:
    async with AsyncVoiceClient(
        api_key="sk_test_otel_0123456789",
        base_url="http://127.0.0.1:9",  # discard port: nothing listens
        max_retries=0,
    ) as c:
        with pytest.raises(Exception):  # noqa: B017 - the span is what is checked
            await c.make_call(**CALL)
    (span,) = spans.get_finished_spans()
    assert span.attributes is not None and span.attributes["error.type"] == "APIConnectionError"


async def test_traceparent_reaches_the_server_on_every_attempt(
    emu: Emulator, spans: InMemorySpanExporter
) -> None:
    emu.faults.script("503", route="make_call")
    async with _recording_proxy(emu.base_url) as (base_url, seen), _client(emu, base_url) as c:
        user = trace.get_tracer("test", tracer_provider=_provider_of(spans))
        with user.start_as_current_span("checkout") as parent:
            await c.make_call(**CALL)
    call_span = next(s for s in spans.get_finished_spans() if s.name == "make_call")
    assert call_span.parent is not None
    assert call_span.parent.span_id == parent.get_span_context().span_id
    trace_id = format(call_span.context.trace_id, "032x")
    span_id = format(call_span.context.span_id, "016x")
    flags = format(call_span.context.trace_flags, "02x")
    assert seen == [f"00-{trace_id}-{span_id}-{flags}"] * 2  # the 503 attempt and its retry


async def test_uninstrument_restores_everything(emu: Emulator) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    VoiceAsyncInstrumentor().instrument(tracer_provider=provider)
    VoiceAsyncInstrumentor().uninstrument()
    assert _hooks.tracer() is None
    async with _recording_proxy(emu.base_url) as (base_url, seen), _client(emu, base_url) as c:
        await c.make_call(**CALL)
    assert exporter.get_finished_spans() == () and seen == [None]


def test_voice_async_works_without_opentelemetry(emu_env: dict[str, str]) -> None:
    """The package never imports OpenTelemetry: blocked, a call still works."""
    script = textwrap.dedent(
        """
        import asyncio, os, sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        from voice_async import AsyncVoiceClient

        async def main():
            async with AsyncVoiceClient() as client:
                await client.make_call(
                    to="+15555555678", from_="+15555551234", agent_key="support_primary"
                )

        asyncio.run(main())
        assert not [m for m in sys.modules if m.startswith("opentelemetry")]
        try:
            import voice_async.contrib.opentelemetry
        except ImportError as exc:
            print("extra:", exc)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **emu_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'voice-async[otel]'" in proc.stdout


@pytest.fixture
def emu_env() -> Iterator[dict[str, str]]:
    """An emulator in a thread of its own, for a subprocess to call."""
    box: dict[str, object] = {}

    def run() -> None:
        async def serve() -> None:
            async with Emulator() as emulator:
                box["env"] = {
                    "STATESET_VOICE_API_KEY": emulator.api_key,
                    "STATESET_VOICE_BASE_URL": emulator.base_url,
                }
                box["stop"] = stopped = asyncio.Event()
                box["loop"] = asyncio.get_running_loop()
                started.set()
                await stopped.wait()

        asyncio.run(serve())

    started = threading.Event()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30)
    try:
        yield box["env"]  # type: ignore[misc]
    finally:
        loop: asyncio.AbstractEventLoop = box["loop"]  # type: ignore[assignment]
        loop.call_soon_threadsafe(box["stop"].set)  # type: ignore[attr-defined]
        thread.join(30)


def _provider_of(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


class _recording_proxy:
    """A reverse proxy in front of the emulator that records each ``traceparent``."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream.rstrip("/")
        self.seen: list[str | None] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        self._session: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.headers.get("traceparent"))
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._session.request(
            request.method,
            self._upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
            auto_decompress=False,
        ) as upstream:
            body = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower() != "transfer-encoding"}
            return web.Response(status=upstream.status, body=body, headers=kept)

    async def __aenter__(self) -> tuple[str, list[str | None]]:
        self._session = aiohttp.ClientSession()
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}", self.seen

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()
        assert self._session is not None
        await self._session.close()
