"""``VoiceAsyncInstrumentor`` on the sessions resource: one span per logical call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from voice_async import AsyncVoiceClient, NotFoundError, Runtime
from voice_async.testing import Emulator

from .conftest import no_wait


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=12, seed=2) as emulator:
        yield emulator


async def test_sessions_list_and_get_are_spans_named_after_the_operation(
    emu: Emulator, spans: InMemorySpanExporter
) -> None:
    emu.faults.script("503", route="list_sessions")
    async with AsyncVoiceClient(
        api_key=emu.api_key, base_url=emu.base_url, runtime=Runtime(sleep=no_wait)
    ) as client:
        page = await client.sessions.list(limit=3, status="completed")
        with pytest.raises(NotFoundError):
            await client.sessions.get("vs_01DOESNOTEXIST0000000000000")
    listed, missing = spans.get_finished_spans()
    assert listed.name == "sessions.list" and listed.kind is trace.SpanKind.CLIENT
    attributes = dict(listed.attributes or {})
    assert attributes["url.template"] == "/api/v1/voice-sessions"
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    assert attributes["http.request.resend_count"] == 1
    assert [e.name for e in listed.events] == ["retry"]
    assert len(page) == 3
    assert missing.name == "sessions.get"
    assert missing.attributes is not None
    assert missing.attributes["url.template"] == "/api/v1/voice-sessions/{session_id}"
    assert missing.attributes["error.type"] == "404"
    assert missing.status.status_code is trace.StatusCode.ERROR
