"""Live events: exactly once, in order, through drops, closes and slow consumers.

End-to-end tests run against the emulator on loopback.  Behaviours the
emulator cannot produce (unknown event types, gaps, handshake statuses, a peer
that stops answering pings, a restart with refused connections) use a small
scripted ``websockets`` server below: connection ``n`` runs ``scripts[n]``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import attrs
import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from voice_async import (
    APIResponseValidationError,
    AsyncVoiceClient,
    AuthenticationError,
    ClientClosedError,
    EventGapError,
    EventStreamError,
    EventStreamOptions,
    EventType,
    InvalidRequestError,
    MissingCredentialsError,
    NotFoundError,
    Runtime,
    SessionEvent,
    SessionNotFoundError,
    StreamUnauthorizedError,
    Timeout,
)
from voice_async._events import EventStream
from voice_async._events_core import (
    Action,
    Reconnector,
    SeqTracker,
    Verdict,
    close_action,
    decode_event,
    handshake_action,
)
from voice_async._models import SessionEndedData, SessionStartedData, TranscriptData
from voice_async._retry import RetryPolicy

from ._loopback import HOST, Loopback
from .conftest import API_KEY, FakeSleep

Options = EventStreamOptions
FAST = EventStreamOptions(initial_backoff=0.01, max_backoff=0.05)


# -- a scripted WebSocket server ---------------------------------------------

Script = Callable[[ServerConnection, int], Awaitable[None]]


def frame(seq: int, type_: str = "transcript.partial", data: Any = None, sid: str = "vs_1") -> str:
    if data is None:
        data = {"role": "caller", "text": f"word {seq}"}
    ts = "2026-11-25T15:30:09.120Z"
    return json.dumps({"type": type_, "session_id": sid, "seq": seq, "ts": ts, "data": data})


def ended(seq: int) -> str:
    return frame(seq, "session.ended", {"status": "completed", "duration_seconds": 3})


async def send_range(ws: ServerConnection, first: int, last: int) -> None:
    for seq in range(first, last + 1):
        await ws.send(frame(seq))


def replay_then(last: int, *, close: int | None, end: bool = False) -> Script:
    """Send ``after_seq+1..last`` (and ``session.ended`` at ``last+1``), then close.

    ``close=None`` drops the TCP connection without a close frame (1006).
    """

    async def script(ws: ServerConnection, after_seq: int) -> None:
        await send_range(ws, after_seq + 1, last)
        if end:
            await ws.send(ended(last + 1))
        if close is None:
            ws.transport.close()
        else:
            await ws.close(close)

    return script


def sends(*frames: str, close: int = 1000) -> Script:
    async def script(ws: ServerConnection, after_seq: int) -> None:
        for text in frames:
            await ws.send(text)
        await ws.close(close)

    return script


class ScriptedServer(Loopback):
    """A websockets server on 127.0.0.1 whose n-th connection runs ``scripts[n]``.

    The last script repeats.  ``statuses`` answers the first handshakes with
    plain HTTP responses (status, headers) instead.  Records every request.
    """

    def __init__(
        self,
        *scripts: Script,
        statuses: list[tuple[int, dict[str, str]]] | None = None,
        port: int = 0,
    ) -> None:
        self.scripts = list(scripts)
        self.statuses = list(statuses or [])
        self.requests: list[Request] = []
        self.after_seqs: list[int] = []
        self.closed_codes: list[int | None] = []
        self.connection_closed = asyncio.Event()
        self.port = port
        self._server: Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.requests.append(request)
        if not self.statuses:
            return None
        status, headers = self.statuses.pop(0)
        response = connection.respond(HTTPStatus(status), f"refused with {status}\n")
        for name, value in headers.items():
            response.headers[name] = value
        return response

    async def _handler(self, ws: ServerConnection) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        index = len(self.after_seqs)
        path = ws.request.path if ws.request is not None else ""
        self.after_seqs.append(int(path.split("after_seq=")[1]))
        script = self.scripts[min(index, len(self.scripts) - 1)]
        try:
            await script(ws, self.after_seqs[-1])
            await ws.wait_closed()
        except ConnectionClosed:
            pass
        finally:
            self.closed_codes.append(ws.protocol.close_code)
            self.connection_closed.set()
            self._handlers.discard(task)

    async def start(self) -> None:
        self._server = await serve(
            self._handler,
            HOST,
            self.port,
            process_request=self._process_request,
            ping_interval=None,
            close_timeout=0.5,
            compression=None,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            for connection in server.connections:
                connection.transport.abort()
            for handler in self._handlers:
                handler.cancel()
            server.close(close_connections=False)
            await server.wait_closed()


@pytest.fixture
def ws_client(
    fake_sleep: FakeSleep, client_factory: Callable[..., AsyncVoiceClient]
) -> Callable[[ScriptedServer], AsyncVoiceClient]:
    """Clients for scripted servers, with recorded (not waited) backoff sleeps."""

    def make(server: ScriptedServer) -> AsyncVoiceClient:
        runtime = Runtime(sleep=fake_sleep, random=random.Random(7))
        return client_factory(api_key=API_KEY, base_url=server.base_url, runtime=runtime)

    return make


async def collect(stream: EventStream) -> list[SessionEvent]:
    return [event async for event in stream]


def seqs(events: list[SessionEvent]) -> list[int]:
    return [event.seq for event in events]


def client_keepalives() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if "keepalive" in repr(t.get_coro()) and not t.done()]


# -- against the emulator: lifecycle, drops, replay, closes -------------------


async def test_placed_call_streams_full_lifecycle(client: AsyncVoiceClient) -> None:
    call = await client.make_call(
        to="+15555555678", from_="+15555551234", agent_key="support_primary"
    )
    async with client.sessions.events(call.session_id) as stream:
        events = await collect(stream)

    assert seqs(events) == list(range(1, len(events) + 1))
    assert {e.session_id for e in events} == {call.session_id}
    first, last = events[0], events[-1]
    assert first.type is EventType.SESSION_STARTED
    assert isinstance(first.data, SessionStartedData)
    assert (first.data.to, first.data.from_) == ("+15555555678", "+15555551234")
    assert last.type is EventType.SESSION_ENDED and isinstance(last.data, SessionEndedData)
    assert all(e.type is not EventType.SESSION_ENDED for e in events[:-1])
    assert stream.closed and stream.last_seq == len(events) and stream.reconnects == 0


async def test_stream_for_ended_session_replays_buffer_then_ends(
    emulator: Any, client: AsyncVoiceClient
) -> None:
    (session_id,) = emulator.insert_sessions(1)
    events = await collect(client.sessions.events(session_id))
    assert events and seqs(events) == list(range(1, len(events) + 1))
    assert events[-1].type is EventType.SESSION_ENDED
    assert emulator.stats.ws_connects == 1


@pytest.mark.parametrize("mode", ["abrupt", "1001", "1011", "1012", "1013"])
async def test_resume_after_drops_every_k_events(
    emulator: Any, client: AsyncVoiceClient, mode: str
) -> None:
    n, k = 1000, 37
    session_id = emulator.add_event_session(n)
    emulator.faults.ws_drop_every(k, mode)
    stream = client.sessions.events(session_id, options=FAST)
    events = await collect(stream)

    assert seqs(events) == list(range(1, n + 1))  # every seq, once, in order
    assert events[-1].type is EventType.SESSION_ENDED
    assert stream.reconnects == n // k == emulator.stats.ws_drops
    assert emulator.stats.ws_connects == stream.connects


async def test_replay_with_after_seq(emulator: Any, client: AsyncVoiceClient) -> None:
    session_id = emulator.add_event_session(50)
    stream = client.sessions.events(session_id, after_seq=20)
    assert stream.url.query["after_seq"] == "20"
    events = await collect(stream)
    assert seqs(events) == list(range(21, 51))
    assert (stream.after_seq, stream.last_seq) == (20, 50)


async def test_close_1000_without_session_ended_is_not_the_end(
    emulator: Any, client: AsyncVoiceClient
) -> None:
    """Resuming past ``session.ended``: the server closes 1000 at once, every time.

    Only ``session.ended`` ends a stream; closes that bring nothing new run
    into the reconnect limit and fail loudly instead of passing for the end.
    """
    session_id = emulator.add_event_session(10)
    stream = client.sessions.events(
        session_id, after_seq=10, options=attrs.evolve(FAST, max_reconnects=2)
    )
    with pytest.raises(EventStreamError) as info:
        await collect(stream)
    assert "code 1000" in str(info.value) and emulator.stats.ws_connects == 3


async def test_close_4001_raises_unauthorized(emulator: Any) -> None:
    wrong_key = "sk_test_not_the_right_key_1234"
    async with AsyncVoiceClient(api_key=wrong_key, base_url=emulator.base_url) as client:
        session_id = emulator.add_event_session(5)
        with pytest.raises(StreamUnauthorizedError) as info:
            await collect(client.sessions.events(session_id))
    assert info.value.close_code == 4001
    assert wrong_key not in str(info.value)
    assert emulator.stats.ws_connects == 1  # final: no reconnect


async def test_close_4004_raises_session_not_found(emulator: Any, client: AsyncVoiceClient) -> None:
    with pytest.raises(SessionNotFoundError) as info:
        async with client.sessions.events("vs_does_not_exist") as stream:
            await collect(stream)
    assert info.value.close_code == 4004
    assert emulator.stats.ws_connects == 1


async def test_handshake_429_and_503_are_retried(emulator: Any, fake_sleep: FakeSleep) -> None:
    session_id = emulator.add_event_session(5)
    emulator.faults.retry_after = 3
    emulator.faults.script("429", "503", route="events")
    runtime = Runtime(sleep=fake_sleep)
    base_url = emulator.base_url
    async with AsyncVoiceClient(api_key=emulator.api_key, base_url=base_url, runtime=runtime) as c:
        events = await collect(c.sessions.events(session_id))
    assert seqs(events) == [1, 2, 3, 4, 5]
    assert emulator.stats.requests["events"] == 3
    assert fake_sleep.delays[0] == 3.0  # Retry-After of the 429
    assert 0 < fake_sleep.delays[1] <= 1.0  # backoff after the 503: twice the initial 0.5


# -- against scripted servers: what the emulator does not do --------------------


async def test_handshake_carries_auth_and_user_agent(
    ws_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="voice_async")
    async with ScriptedServer(sends(ended(1))) as server:
        await collect(ws_client(server).sessions.events("vs_1"))
    client_log = [r.getMessage() for r in caplog.records if r.name.startswith("voice_async")]
    assert "> Authorization: ****" in client_log  # websockets' handshake debug log, masked
    assert not [line for line in client_log if API_KEY in line]
    (request,) = server.requests
    assert request.path == "/api/v1/voice-sessions/vs_1/events?after_seq=0"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"].startswith("voice-async/")
    assert "websockets/" in request.headers["User-Agent"]


async def test_wss_url_from_https_base_url() -> None:
    async with AsyncVoiceClient(api_key=API_KEY, base_url="https://voice.example.com") as client:
        stream = client.sessions.events("vs_1", after_seq=7)
        assert (
            str(stream.url)
            == "wss://voice.example.com/api/v1/voice-sessions/vs_1/events?after_seq=7"
        )
        assert API_KEY not in repr(stream)


async def test_unknown_event_type_passes(ws_client: Any) -> None:
    script = sends(frame(1), frame(2, "sentiment.score", {"score": 0.9}), ended(3))
    async with ScriptedServer(script) as server:
        events = await collect(ws_client(server).sessions.events("vs_1"))
    assert seqs(events) == [1, 2, 3]
    assert isinstance(events[0].data, TranscriptData)
    assert events[1].type == "sentiment.score" and events[1].data == {"score": 0.9}


async def test_gap_after_reconnect_raises(ws_client: Any) -> None:
    async def skip_ahead(ws: ServerConnection, after_seq: int) -> None:
        await ws.send(frame(after_seq + 4))  # the server lost 4..6

    async with ScriptedServer(replay_then(3, close=None), skip_ahead) as server:
        stream = ws_client(server).sessions.events("vs_1")
        got: list[int] = []
        with pytest.raises(EventGapError) as info:
            async for event in stream:
                got.append(event.seq)
    assert got == [1, 2, 3] and stream.last_seq == 3 and stream.closed
    assert (info.value.expected_seq, info.value.got_seq) == (4, 7)
    assert server.after_seqs == [0, 3]


async def test_gap_at_start_unless_allowed(ws_client: Any) -> None:
    async with ScriptedServer(sends(frame(500), ended(501))) as server:
        client = ws_client(server)
        with pytest.raises(EventGapError):
            await collect(client.sessions.events("vs_1"))
        events = await collect(
            client.sessions.events("vs_1", options=Options(allow_initial_gap=True))
        )
    assert seqs(events) == [500, 501]


async def test_replayed_duplicates_are_dropped(ws_client: Any) -> None:
    async def ignores_after_seq(ws: ServerConnection, after_seq: int) -> None:
        await send_range(ws, 1, 5)
        await ws.send(ended(6))
        await ws.close()

    async with ScriptedServer(replay_then(3, close=1012), ignores_after_seq) as server:
        stream = ws_client(server).sessions.events("vs_1")
        events = await collect(stream)
    assert seqs(events) == [1, 2, 3, 4, 5, 6]
    assert stream.duplicates == 3


async def test_restart_1012_then_refused_connections(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="voice_async")
    first = ScriptedServer(replay_then(5, close=1012))
    await first.start()
    async with AsyncVoiceClient(api_key=API_KEY, base_url=first.base_url) as client:
        stream = client.sessions.events("vs_1", options=attrs.evolve(FAST, max_reconnects=100))
        consumer = asyncio.create_task(collect(stream))
        await asyncio.wait_for(first.connection_closed.wait(), 2)
        await first.stop()  # down: reconnects are refused for a while
        await asyncio.sleep(0.3)
        async with ScriptedServer(replay_then(9, close=1000, end=True), port=first.port) as second:
            events = await asyncio.wait_for(consumer, 5)
    assert seqs(events) == list(range(1, 11))
    assert second.after_seqs == [5]
    assert "code 1012" in caplog.text and "ConnectionRefusedError" in caplog.text


async def test_backoff_grows_until_healthy_then_gives_up(
    ws_client: Any, fake_sleep: FakeSleep
) -> None:
    async def accept_and_drop(ws: ServerConnection, after_seq: int) -> None:
        ws.transport.close()

    async with ScriptedServer(accept_and_drop) as server:
        stream = ws_client(server).sessions.events("vs_1", options=Options(max_reconnects=4))
        with pytest.raises(EventStreamError) as info:
            await collect(stream)
    assert len(server.after_seqs) == 5  # the first attempt and 4 reconnects
    policy, rng = (
        RetryPolicy(max_retries=4, initial_backoff=0.5, max_backoff=10.0),
        random.Random(7),
    )
    assert fake_sleep.delays == [policy.backoff(i, rng) for i in range(4)]
    assert "giving up after 4 consecutive failed reconnects" in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionClosed)
    assert stream.closed


async def test_progress_keeps_the_stream_but_not_a_short_backoff(
    ws_client: Any, fake_sleep: FakeSleep
) -> None:
    """One event per connection: never given up on, yet reconnects stay spaced.

    A connection that did not stay up ``healthy_after`` does not reset the
    backoff, even though it delivered something (a server that accepts, sends
    and drops must not be hammered); progress only keeps the stream alive.
    """

    async def one_event_then_drop(ws: ServerConnection, after_seq: int) -> None:
        await ws.send(ended(after_seq + 1) if after_seq == 9 else frame(after_seq + 1))
        ws.transport.close()

    async with ScriptedServer(one_event_then_drop) as server:
        stream = ws_client(server).sessions.events("vs_1", options=Options(max_reconnects=2))
        events = await collect(stream)
    assert seqs(events) == list(range(1, 11))  # 9 drops, though only 2 failures allowed
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=10.0)
    rng = random.Random(7)
    assert fake_sleep.delays == [policy.backoff(i, rng) for i in range(9)]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, StreamUnauthorizedError),
        (403, StreamUnauthorizedError),
        (404, SessionNotFoundError),
        (400, EventStreamError),
    ],
)
async def test_handshake_refusals_are_final(
    ws_client: Any, status: int, error: type[EventStreamError]
) -> None:
    async with ScriptedServer(sends(ended(1)), statuses=[(status, {})]) as server:
        with pytest.raises(error) as info:
            async with ws_client(server).sessions.events("vs_1"):
                pass
    assert f"HTTP {status}" in str(info.value) and API_KEY not in str(info.value)
    assert len(server.requests) == 1
    if status != 400:  # caught by meaning, like the HTTP errors, with the real status
        http_peer = AuthenticationError if status in (401, 403) else NotFoundError
        assert isinstance(info.value, http_peer) and info.value.status == status
        assert info.value.close_code is None


async def test_stream_errors_are_caught_as_their_http_peers(
    emulator: Any, client: AsyncVoiceClient
) -> None:
    """``except NotFoundError`` catches a 4004 close; ``except AuthenticationError`` a 4001."""
    with pytest.raises(NotFoundError) as missing:
        await collect(client.sessions.events("vs_does_not_exist"))
    assert isinstance(missing.value, SessionNotFoundError)
    assert (missing.value.status, missing.value.close_code) == (404, 4004)
    wrong = AsyncVoiceClient(api_key="sk_test_not_the_right_key_1234", base_url=emulator.base_url)
    async with wrong:
        with pytest.raises(AuthenticationError) as denied:
            await collect(wrong.sessions.events(emulator.add_event_session(3)))
    assert isinstance(denied.value, StreamUnauthorizedError)
    assert (denied.value.status, denied.value.close_code) == (401, 4001)


async def test_handshake_retry_after_is_honoured(ws_client: Any, fake_sleep: FakeSleep) -> None:
    statuses = [(503, {"Retry-After": "2"}), (429, {"Retry-After": "1"})]
    async with ScriptedServer(sends(ended(1)), statuses=statuses) as server:
        events = await collect(ws_client(server).sessions.events("vs_1"))
    assert seqs(events) == [1] and fake_sleep.delays == [2.0, 1.0]


async def test_dead_connection_without_pong_is_reconnected(ws_client: Any) -> None:
    async def stop_answering(ws: ServerConnection, after_seq: int) -> None:
        await send_range(ws, 1, 2)
        ws.transport.pause_reading()  # pings are never read, so never answered
        await asyncio.sleep(30)

    opts = EventStreamOptions(ping_interval=0.1, ping_timeout=0.1, close_timeout=0.1)
    async with ScriptedServer(stop_answering, replay_then(4, close=1000, end=True)) as server:
        stream = ws_client(server).sessions.events("vs_1", options=opts)
        events = await asyncio.wait_for(collect(stream), 5)
    assert seqs(events) == [1, 2, 3, 4, 5] and server.after_seqs == [0, 2]


async def test_slow_consumer_keeps_memory_bounded(ws_client: Any) -> None:
    n, padding = 1500, "x" * 32_000  # 48 MB if it were all buffered
    sent = 0

    async def firehose(ws: ServerConnection, after_seq: int) -> None:
        nonlocal sent
        for seq in range(1, n + 1):
            await ws.send(frame(seq, data={"role": "agent", "text": padding}))
            sent = seq
        await ws.send(ended(n + 1))
        await ws.close()

    async with ScriptedServer(firehose) as server:
        stream = ws_client(server).sessions.events("vs_1", options=EventStreamOptions(max_queue=8))
        got: list[int] = []
        async for event in stream:
            got.append(event.seq)
            if event.seq == 5:  # a consumer that stalls
                await asyncio.sleep(0.3)
                stalled_at = sent
                await asyncio.sleep(0.2)
                assert sent == stalled_at  # the server is blocked, not buffering into us
                assert sent < n // 3  # at most a few MB in socket buffers + 8 frames
    assert got == list(range(1, n + 2))


@pytest.mark.parametrize("form", ["async_with", "plain"])
async def test_cancel_mid_stream_cleans_up(ws_client: Any, form: str) -> None:
    async def live(ws: ServerConnection, after_seq: int) -> None:
        await send_range(ws, 1, 3)
        await ws.wait_closed()  # a live session with nothing new to say

    async with ScriptedServer(live) as server:
        stream = ws_client(server).sessions.events("vs_1")
        got: list[int] = []
        three = asyncio.Event()

        async def consume() -> None:
            if form == "async_with":
                async with stream:
                    async for event in stream:
                        got.append(event.seq)
                        if event.seq == 3:
                            three.set()
            else:
                async for event in stream:
                    got.append(event.seq)
                    if event.seq == 3:
                        three.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(three.wait(), 2)
        await asyncio.sleep(0.05)  # the consumer is now blocked in recv()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.connection_closed.wait(), 1)
    assert got == [1, 2, 3] and stream.closed
    assert client_keepalives() == []


async def test_break_closes_the_socket_promptly(ws_client: Any) -> None:
    async def live(ws: ServerConnection, after_seq: int) -> None:
        await send_range(ws, 1, 10)
        await ws.wait_closed()

    async with ScriptedServer(live) as server:
        stream = ws_client(server).sessions.events("vs_1")
        async for event in stream:
            if event.seq == 2:
                break
        await asyncio.wait_for(server.connection_closed.wait(), 1)
    assert server.closed_codes == [1000] and stream.closed and stream.last_seq == 2
    assert client_keepalives() == []


async def test_leaving_a_busy_stream_is_prompt(emulator: Any, client: AsyncVoiceClient) -> None:
    """Frames still in flight must not stall the close (python-websockets#1555)."""
    session_id = emulator.add_event_session(20_000)
    loop = asyncio.get_running_loop()
    async with client.sessions.events(session_id) as stream:  # close_timeout 5 s
        async for event in stream:
            if event.seq == 10:
                break
        left_at = loop.time()
    assert loop.time() - left_at < 1.0
    assert stream.closed and stream.last_seq == 10


async def test_malformed_frame_is_a_validation_error(ws_client: Any) -> None:
    async with ScriptedServer(sends(frame(1), "{not json")) as server:
        stream = ws_client(server).sessions.events("vs_1")
        with pytest.raises(APIResponseValidationError):
            await collect(stream)
    assert stream.closed and stream.last_seq == 1


async def test_unknown_close_code_is_final(ws_client: Any) -> None:
    async with ScriptedServer(sends(frame(1), close=1008)) as server:
        with pytest.raises(EventStreamError) as info:
            await collect(ws_client(server).sessions.events("vs_1"))
    assert info.value.close_code == 1008 and len(server.requests) == 1


# -- watch: several sessions merged -------------------------------------------


async def test_watch_merges_sessions_each_exactly_once(
    emulator: Any, client: AsyncVoiceClient
) -> None:
    a, b = emulator.add_event_session(30), emulator.add_event_session(45)
    emulator.faults.ws_drop_every(7)
    async with client.sessions.watch(a, b, after_seq={b: 5}, options=FAST) as watch:
        events = [event async for event in watch]
    assert [e.seq for e in events if e.session_id == a] == list(range(1, 31))
    assert [e.seq for e in events if e.session_id == b] == list(range(6, 46))
    assert watch.last_seqs == {a: 30, b: 45}


async def test_watch_raises_first_final_error_and_closes_the_rest(
    emulator: Any, client: AsyncVoiceClient
) -> None:
    (live,) = emulator.insert_sessions(1)
    with pytest.raises(SessionNotFoundError):
        async with client.sessions.watch(live, "vs_missing") as watch:
            async for _event in watch:
                pass
    assert client_keepalives() == []


async def test_leaving_a_busy_watch_is_prompt(emulator: Any, client: AsyncVoiceClient) -> None:
    a, b = emulator.add_event_session(20_000), emulator.add_event_session(20_000)
    loop = asyncio.get_running_loop()
    async with client.sessions.watch(a, b, max_pending=4) as watch:
        async for event in watch:
            if event.seq == 10:
                break
        left_at = loop.time()
    assert loop.time() - left_at < 1.0
    assert client_keepalives() == []


async def test_watch_break_closes_every_socket(ws_client: Any) -> None:
    async def live(ws: ServerConnection, after_seq: int) -> None:
        await send_range(ws, 1, 3)
        await ws.wait_closed()

    async with ScriptedServer(live) as server:
        watch = ws_client(server).sessions.watch("vs_1", "vs_2")
        async for event in watch:
            if event.seq == 2:
                break
        for _ in range(100):
            if len(server.closed_codes) == 2:
                break
            await asyncio.sleep(0.01)
    assert server.closed_codes == [1000, 1000]
    assert client_keepalives() == []
    assert not [t for t in asyncio.all_tasks() if "_pump" in repr(t.get_coro())]


# -- API surface ---------------------------------------------------------------


async def test_iterated_once_and_not_after_client_close(ws_client: Any) -> None:
    async with ScriptedServer(sends(ended(1))) as server:
        client = ws_client(server)
        stream = client.sessions.events("vs_1")
        iterator = aiter(stream)
        with pytest.raises(RuntimeError):
            aiter(stream)
        assert [e.seq async for e in iterator] == [1]
        await client.aclose()
        with pytest.raises(ClientClosedError):
            await collect(client.sessions.events("vs_1"))


async def test_missing_key_fails_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATESET_VOICE_API_KEY", raising=False)
    async with AsyncVoiceClient(base_url="http://127.0.0.1:9") as client:
        with pytest.raises(MissingCredentialsError):
            await collect(client.sessions.events("vs_1"))


def test_options_are_declared_once_and_validated_before_connecting() -> None:
    """``events``, ``watch`` and ``EventStream`` take one ``EventStreamOptions`` value."""
    from voice_async.resources.sessions import SessionsResource

    for method in (SessionsResource.events, SessionsResource.watch, EventStream):
        params = inspect.signature(method).parameters
        assert params["options"].default is None
        assert not set(params) & {f.name for f in attrs.fields(EventStreamOptions)}
    bad: list[dict[str, Any]] = [
        {"max_reconnects": -1},
        {"initial_backoff": 0},
        {"max_backoff": float("nan")},
        {"healthy_after": float("inf")},
        {"ping_interval": "20"},
        {"max_queue": 0},
        {"compression": 1},
    ]
    for kwargs in bad:
        with pytest.raises(InvalidRequestError) as info:
            EventStreamOptions(**kwargs)
        assert info.value.field == next(iter(kwargs))


async def test_timeout_bounds_the_handshake(emulator: Any, client: AsyncVoiceClient) -> None:
    stream = client.sessions.events("vs_1", timeout=2.5)
    assert stream._open_timeout == 2.5
    assert client.sessions.events("vs_1", timeout=Timeout(connect=4.0))._open_timeout == 4.0
    assert client.sessions.events("vs_1")._open_timeout == client._transport.config.timeout.connect
    with pytest.raises(InvalidRequestError):
        client.sessions.events("vs_1", timeout=-1)


# -- the pure protocol core ----------------------------------------------------


def test_close_codes() -> None:
    for code in (1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014):
        assert close_action(code) is Action.RECONNECT
    assert close_action(4001) is Action.UNAUTHORIZED
    assert close_action(4004) is Action.NOT_FOUND
    for code in (1002, 1008, 1009, 4000, 4999):
        assert close_action(code) is Action.FAIL


def test_handshake_statuses() -> None:
    assert handshake_action(401) is handshake_action(403) is Action.UNAUTHORIZED
    assert handshake_action(404) is Action.NOT_FOUND
    for status in (408, 429, 500, 502, 503, 504):
        assert handshake_action(status) is Action.RECONNECT
    assert handshake_action(400) is handshake_action(410) is Action.FAIL


def test_seq_tracker() -> None:
    tracker = SeqTracker(after_seq=3)
    assert [tracker.accept(s) for s in (4, 5, 5, 2, 6, 9)] == [
        Verdict.DELIVER, Verdict.DELIVER, Verdict.DUPLICATE, Verdict.DUPLICATE,
        Verdict.DELIVER, Verdict.GAP,
    ]  # fmt: skip
    assert (tracker.last_seq, tracker.expected_seq, tracker.duplicates) == (6, 7, 2)
    free = SeqTracker(allow_initial_gap=True)
    assert [free.accept(s) for s in (40, 42)] == [Verdict.DELIVER, Verdict.GAP]


def test_reconnector_backs_off_until_healthy() -> None:
    policy = RetryPolicy(max_retries=3, initial_backoff=1.0, max_backoff=4.0)
    r = Reconnector(policy, healthy_after=10.0, rng=random.Random(1))
    # Accepted and dropped at once, three times: backoff grows, then give up.
    delays = []
    for now in (0.0, 1.0, 2.0):
        r.opened(now)
        delays.append(r.next_delay(now + 0.1))
    assert all(d is not None and d > 0 for d in delays)
    assert r.next_delay(3.0) is None and r.failures == 3
    # Progress resets the count towards giving up, not the growing delay.
    r.opened(4.0)
    delay = r.next_delay(4.1, delivered=1)
    assert delay is not None and delay > 0 and (r.failures, r.attempt) == (1, 4)
    # Failed handshakes after it count again, however much came before them.
    assert r.next_delay(4.2, delivered=1) is not None and r.failures == 2
    assert r.next_delay(4.3, delivered=1) is not None and r.failures == 3
    assert r.next_delay(4.4, delivered=1) is None  # max_retries=3: give up
    # A short connection that carried healthy_events (100) events is healthy too.
    r.opened(4.5)
    assert r.next_delay(4.6, delivered=100) == 0.0 and (r.failures, r.attempt) == (1, 1)
    # A connection that lived long enough is healthy, though quiet: reconnect at once.
    r.opened(5.0)
    assert r.next_delay(15.0) == 0.0 and (r.failures, r.attempt) == (1, 1)
    # 1013 "try again later" and Retry-After are honoured even then.
    r.opened(20.0)
    assert r.next_delay(30.0, code=1013) != 0.0
    r.opened(40.0)
    assert r.next_delay(50.0, retry_after=2.5) == 2.5
    assert r.next_delay(51.0, retry_after=3600.0) is None  # beyond max_retry_after


def test_decode_event() -> None:
    event = decode_event(frame(3).encode())
    assert event.seq == 3 and event.type is EventType.TRANSCRIPT_PARTIAL
    assert decode_event(frame(4, "brand.new", {"a": [1]})).data == {"a": [1]}
    with pytest.raises(APIResponseValidationError):
        decode_event("[1, 2")
    with pytest.raises(APIResponseValidationError):
        decode_event('{"type": "x"}')


def test_decode_event_reads_utf8_and_padding_and_refuses_other_encodings() -> None:
    """Frames are UTF-8 (RFC 8259); whitespace around the document is fine."""
    text = json.dumps(
        json.loads(frame(6, data={"role": "agent", "text": "Grüße"})), ensure_ascii=False
    )
    assert decode_event(f" {text}\n".encode()).data.text == "Grüße"  # type: ignore[union-attr]
    for foreign in (text.encode("utf-16"), text.encode("latin-1"), b"\xff" + text.encode()):
        with pytest.raises(APIResponseValidationError, match="not valid JSON"):
            decode_event(foreign)
    with pytest.raises(APIResponseValidationError, match="not valid JSON"):
        decode_event(text + " {}")  # extra data after the event


def test_decode_event_explains_a_bad_field() -> None:
    """The fast path calls the generated decoder directly; a failure still comes
    out typed, naming the first bad field.
    """
    with pytest.raises(APIResponseValidationError, match="missing required field 'session_id'"):
        decode_event('{"type": "x"}')
    with pytest.raises(APIResponseValidationError, match="field 'seq'"):
        decode_event(frame(5).replace('"seq": 5', '"seq": "5"'))


def test_decode_event_keeps_strict_types_and_extras() -> None:
    """The converter's fast path for events is as strict as the general one."""
    typed = decode_event(frame(5, data={"role": "agent", "text": "hi", "lang": "en"}))
    assert isinstance(typed.data, TranscriptData) and typed.data.extra == {"lang": "en"}
    assert decode_event(frame(5).replace('"seq": 5', '"seq": 5.0')).seq == 5
    for bad in ('"seq": true', '"seq": "5"'):
        with pytest.raises(APIResponseValidationError):
            decode_event(frame(5).replace('"seq": 5', bad))
    with pytest.raises(APIResponseValidationError):
        decode_event(frame(5, data={"role": "agent", "text": 7}))
    with pytest.raises(APIResponseValidationError):
        decode_event(frame(5, data=[1]))
