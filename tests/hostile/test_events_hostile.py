"""Live events against WebSocket servers that misbehave on purpose.

Each case asserts the typed outcome and bounds the damage by counting
handshakes and recorded backoff sleeps (the client's ``Runtime`` seam), not
by timing, except one real-time ceiling on reconnect frequency.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Response

from voice_async import (
    APIResponseValidationError,
    AsyncVoiceClient,
    EventProtocolError,
    EventStreamError,
    EventStreamOptions,
    RetryPolicy,
    Runtime,
    SessionEvent,
    StreamUnauthorizedError,
)

from ..conftest import FakeSleep
from ._ws_servers import API_KEY, SESSION_ID, EventServer, event

Options = EventStreamOptions
TIME_BOUND = 10.0  # a ceiling against hangs on a loaded machine, not a measurement


@pytest.fixture
def make_client(client_factory: Callable[..., AsyncVoiceClient]) -> Callable[..., AsyncVoiceClient]:
    """Clients of an :class:`EventServer`, each with the ``runtime`` a test gives."""

    def make(server: EventServer, runtime: Runtime | None = None) -> AsyncVoiceClient:
        return client_factory(api_key=API_KEY, base_url=server.base_url, runtime=runtime)

    return make


async def collect(stream: Any, into: list[SessionEvent] | None = None) -> list[SessionEvent]:
    got = [] if into is None else into

    async def run() -> None:
        async for item in stream:
            got.append(item)

    await asyncio.wait_for(run(), TIME_BOUND)
    return got


def seqs(events: list[SessionEvent]) -> list[int]:
    return [e.seq for e in events]


# -- (a) an event of another session -------------------------------------------


async def test_event_of_another_session_is_a_protocol_error(make_client: Any) -> None:
    async def script(ws: ServerConnection, after_seq: int) -> None:
        await ws.send(event(1))
        await ws.send(event(2, sid="vs_someone_else"))
        await ws.send(event(3, "session.ended"))
        await ws.wait_closed()

    async with EventServer(script) as server:
        got: list[SessionEvent] = []
        with pytest.raises(EventProtocolError) as info:
            await collect(make_client(server).sessions.events(SESSION_ID), got)
    assert seqs(got) == [1]  # the foreign frame and everything after it: never yielded
    assert isinstance(info.value, EventStreamError)
    assert "vs_someone_else" in str(info.value) and server.handshakes == 1  # final


# -- (b) close 1000 without session.ended --------------------------------------


async def test_close_1000_before_the_end_resumes(make_client: Any) -> None:
    async def script(ws: ServerConnection, after_seq: int) -> None:
        for seq in range(after_seq + 1, min(after_seq + 3, 9) + 1):
            await ws.send(event(seq))
        if after_seq + 3 >= 9:
            await ws.send(event(10, "session.ended"))
        await ws.close(1000)

    async with EventServer(script) as server:
        recorder = FakeSleep()
        client = make_client(server, Runtime(sleep=recorder))
        stream = client.sessions.events(SESSION_ID)
        got = await collect(stream)
    assert seqs(got) == list(range(1, 11))  # each once, in order, to session.ended
    assert server.after_seqs == [0, 3, 6, 9][: len(server.after_seqs)] == [0, 3, 6]
    assert stream.reconnects == 2 and len(recorder.delays) == 2


async def test_close_1000_forever_without_progress_hits_the_limit(make_client: Any) -> None:
    async def script(ws: ServerConnection, after_seq: int) -> None:
        await ws.close(1000)

    async with EventServer(script) as server:
        client = make_client(server, Runtime(sleep=FakeSleep()))
        with pytest.raises(EventStreamError) as info:
            await collect(client.sessions.events(SESSION_ID, options=Options(max_reconnects=3)))
    assert server.handshakes == 4 and "code 1000" in str(info.value)


# -- (c) accept, send one event, drop: spaced by the backoff schedule ----------


def one_event_then_drop(last: int) -> Any:
    async def script(ws: ServerConnection, after_seq: int) -> None:
        seq = after_seq + 1
        await ws.send(event(seq, "session.ended" if seq == last else "transcript.partial"))
        ws.transport.close()  # no close frame: 1006

    return script


async def test_drop_after_every_event_follows_the_backoff_schedule(make_client: Any) -> None:
    recorder = FakeSleep()
    async with EventServer(one_event_then_drop(30)) as server:
        client = make_client(server, Runtime(sleep=recorder, random=random.Random(5)))
        stream = client.sessions.events(SESSION_ID, options=Options(max_reconnects=2))
        got = await collect(stream)
    assert seqs(got) == list(range(1, 31))  # progress: never given up
    policy, rng = RetryPolicy(initial_backoff=0.5, max_backoff=10.0), random.Random(5)
    assert recorder.delays == [policy.backoff(i, rng) for i in range(29)]
    assert all(d > 0 for d in recorder.delays) and server.handshakes == 30


async def test_drop_after_every_event_is_not_hammered_in_real_time(make_client: Any) -> None:
    """The ~300 reconnects a second of a backoff reset per handshake, counted."""
    async with EventServer(one_event_then_drop(10**9)) as server:
        stream = make_client(server).sessions.events(
            SESSION_ID, options=EventStreamOptions(initial_backoff=0.05, max_backoff=0.2)
        )
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(collect(stream), 1.5)
    # 1.5 s at a mean delay near 0.1 s: about 15 handshakes; 300/s would be ~450.
    assert 2 <= server.handshakes <= 40


async def test_a_connection_that_stays_up_resets_the_backoff(make_client: Any) -> None:
    """Health is judged on the Runtime clock: here every connection lasts 100 s."""
    clock = itertools.count(0.0, 100.0)
    recorder = FakeSleep()
    async with EventServer(one_event_then_drop(6)) as server:
        runtime = Runtime(sleep=recorder, monotonic=lambda: next(clock))
        stream = make_client(server, runtime).sessions.events(SESSION_ID)
        got = await collect(stream)
    assert seqs(got) == list(range(1, 7)) and stream.reconnects == 5
    assert recorder.delays == []  # healthy each time: reconnected at once, no sleep


# -- (4) a secret echoed by the server -----------------------------------------


def assert_secret_free(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    shown = "".join(traceback.format_exception(exc))
    assert API_KEY not in shown and API_KEY not in repr(exc) and API_KEY not in repr(vars(exc))
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            assert API_KEY not in str(linked) and API_KEY not in repr(vars(linked))
    assert API_KEY not in caplog.text
    assert "****" in shown + caplog.text  # it was there, and masked


@pytest.mark.parametrize("code", [4001, 1011])
async def test_key_echoed_in_a_close_reason_is_masked(
    make_client: Any, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    async def script(ws: ServerConnection, after_seq: int) -> None:
        await ws.close(code, f"bad key {API_KEY}")

    caplog.set_level(logging.DEBUG, logger="voice_async")
    async with EventServer(script) as server:
        client = make_client(server, Runtime(sleep=FakeSleep()))
        with pytest.raises(EventStreamError) as info:
            await collect(client.sessions.events(SESSION_ID, options=Options(max_reconnects=2)))
    if code == 4001:
        assert isinstance(info.value, StreamUnauthorizedError)
    assert_secret_free(info.value, caplog)


@pytest.mark.parametrize("status", [401, 404, 400])
async def test_key_echoed_in_a_refused_handshake_is_masked(
    make_client: Any, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    headers = Headers({"x-request-id": f"req_{API_KEY}", "x-echo": API_KEY})
    body = f'{{"error": {{"type": "auth", "message": "key {API_KEY} refused"}}}}'.encode()
    refuse = Response(status, "Refused", headers, body)

    async def script(ws: ServerConnection, after_seq: int) -> None:
        raise AssertionError("never upgraded")

    caplog.set_level(logging.DEBUG, logger="voice_async")
    async with EventServer(script, refuse=refuse) as server:
        with pytest.raises(EventStreamError) as info:
            await collect(make_client(server).sessions.events(SESSION_ID))
    cause = info.value.__cause__
    assert cause is not None and API_KEY not in str(getattr(cause, "request_id", ""))
    assert API_KEY not in repr(getattr(cause, "headers", {}))
    assert server.handshakes == 1
    assert_secret_free(info.value, caplog)


async def test_unreadable_retry_after_on_a_refused_handshake(make_client: Any) -> None:
    """A ``Retry-After`` date that overflows is ignored, never a raw OverflowError."""
    headers = Headers({"Retry-After": "Mon, 01 Jan 2024 00:00:00 +99999999999999999999"})
    refuse = Response(503, "Unavailable", headers, b"")

    async def script(ws: ServerConnection, after_seq: int) -> None:
        raise AssertionError("never upgraded")

    async with EventServer(script, refuse=refuse) as server:
        client = make_client(server, Runtime(sleep=FakeSleep()))
        with pytest.raises(EventStreamError):
            await collect(client.sessions.events(SESSION_ID, options=Options(max_reconnects=2)))
    assert server.handshakes == 3


async def test_refused_after_progress_still_hits_the_limit(make_client: Any) -> None:
    """Events delivered earlier do not excuse the handshake failures that follow."""
    server_ref: list[EventServer] = []

    async def one_then_refuse(ws: ServerConnection, after_seq: int) -> None:
        await ws.send(event(after_seq + 1))
        server_ref[0].refuse = Response(503, "Unavailable", Headers(), b"")
        ws.transport.close()

    async with EventServer(one_then_refuse) as server:
        server_ref.append(server)
        client = make_client(server, Runtime(sleep=FakeSleep()))
        got: list[SessionEvent] = []
        with pytest.raises(EventStreamError, match="giving up after 3"):
            await collect(
                client.sessions.events(SESSION_ID, options=Options(max_reconnects=3)), got
            )
    assert seqs(got) == [1] and server.handshakes == 1 + 3


@pytest.mark.parametrize(
    "frame",
    [
        f"not json {API_KEY}",
        event(1).replace('"seq": 1', f'"seq": "{API_KEY}"'),
        event(1).replace("2026-11-25T15:30:09.120Z", API_KEY),
    ],
)
async def test_key_echoed_in_a_bad_frame_is_masked(
    make_client: Any, caplog: pytest.LogCaptureFixture, frame: str
) -> None:
    async def script(ws: ServerConnection, after_seq: int) -> None:
        await ws.send(frame)
        await ws.wait_closed()

    caplog.set_level(logging.DEBUG, logger="voice_async")
    async with EventServer(script) as server:
        with pytest.raises(APIResponseValidationError) as info:
            await collect(make_client(server).sessions.events(SESSION_ID))
    assert API_KEY not in str(info.value.body_excerpt)
    assert_secret_free(info.value, caplog)


async def test_a_connection_that_carried_enough_resets_the_backoff(make_client: Any) -> None:
    """``healthy_events`` new events make a short connection healthy: resume at once."""

    async def batch_then_drop(ws: ServerConnection, after_seq: int) -> None:
        for seq in range(after_seq + 1, after_seq + 151):
            await ws.send(event(seq, "session.ended" if seq == 600 else "transcript.partial"))
        ws.transport.close()

    recorder = FakeSleep()
    async with EventServer(batch_then_drop) as server:
        stream = make_client(server, Runtime(sleep=recorder)).sessions.events(SESSION_ID)
        got = await collect(stream)
    assert seqs(got) == list(range(1, 601)) and stream.reconnects == 3
    assert recorder.delays == []  # 150 >= healthy_events (100): no wait


async def test_timeout_bounds_a_handshake_the_server_never_answers(make_client: Any) -> None:
    """``events(timeout=)``: a peer that accepts TCP and never answers the upgrade."""
    accepted = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        client = AsyncVoiceClient(api_key=API_KEY, base_url=f"http://127.0.0.1:{port}")
        async with client:
            stream = client.sessions.events(
                SESSION_ID, timeout=0.2, options=Options(max_reconnects=1, initial_backoff=0.01)
            )
            with pytest.raises(EventStreamError, match="giving up after 1") as info:
                await asyncio.wait_for(collect(stream), TIME_BOUND)
    assert accepted == 2 and isinstance(info.value.__cause__, TimeoutError)


async def test_key_echoed_by_a_retryable_refusal_is_masked_in_the_final_error(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """503s that echo the key, until the stream gives up: the chained cause is masked too."""
    headers = Headers({"x-request-id": f"req_{API_KEY}"})
    refuse = Response(503, "Unavailable", headers, f"down, key {API_KEY}".encode())

    async def script(ws: ServerConnection, after_seq: int) -> None:
        raise AssertionError("never upgraded")

    caplog.set_level(logging.DEBUG, logger="voice_async")
    async with EventServer(script, refuse=refuse) as server:
        client = make_client(server, Runtime(sleep=FakeSleep()))
        with pytest.raises(EventStreamError, match="giving up after 2") as info:
            await collect(client.sessions.events(SESSION_ID, options=Options(max_reconnects=2)))
    cause = info.value.__cause__
    assert cause is not None and "503" in str(cause)
    assert_secret_free(info.value, caplog)
