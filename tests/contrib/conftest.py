"""Fixtures for the OpenTelemetry tests: an instrumented in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from voice_async.contrib.opentelemetry import VoiceAsyncInstrumentor


async def no_wait(delay: float) -> None:
    """A ``Runtime.sleep`` that does not wait: retries happen at once."""


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans the SDK finished during the test; uninstrumented afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    VoiceAsyncInstrumentor().instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        VoiceAsyncInstrumentor().uninstrument()
