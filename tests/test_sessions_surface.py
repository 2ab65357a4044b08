"""Sessions and the events stream on the 0.2.0 surface (issue 15): raw responses,
``extra_headers``, hooks with URL templates, and the stream's hooks.

Against the emulator; what goes on the wire (headers, repeated headers) is
checked with a loopback server that records requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

from voice_async import (
    AsyncVoiceClient,
    EventStreamError,
    EventStreamOptions,
    InvalidRequestError,
    RawResponse,
    RequestInfo,
    ResponseInfo,
    Runtime,
    SessionPage,
    SessionsWithRawResponse,
    StreamConnectInfo,
    StreamGiveUpInfo,
    StreamReconnectInfo,
    VoiceSession,
)
from voice_async._hooks import STREAM_URL_TEMPLATE
from voice_async.testing import Emulator

from ._recorder import Recorder
from .hostile._http_servers import HostileServer

KEY = "sk_test_sessions_0123456789abcdef"
SESSION_BODY = {
    "id": "vs_wire_1",
    "status": "completed",
    "direction": "outbound",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "created_at": "2026-11-25T15:30:00Z",
}
PAGE_BODY = {"data": [SESSION_BODY], "limit": 25, "offset": 0, "total": 1, "has_more": False}


async def _no_wait(delay: float) -> None:
    return None


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=30, seed=3) as emulator:
        yield emulator


def _client(emu: Emulator, **kwargs: Any) -> AsyncVoiceClient:
    return AsyncVoiceClient(
        api_key=emu.api_key, base_url=emu.base_url, runtime=Runtime(sleep=_no_wait), **kwargs
    )


# -- raw responses -------------------------------------------------------------------


async def test_raw_get_and_list_parse_to_what_the_plain_methods_return(emu: Emulator) -> None:
    async with _client(emu) as client:
        raw_page = await client.sessions.with_raw_response.list(limit=5, offset=2)
        assert isinstance(raw_page, RawResponse) and raw_page.status == 200
        assert raw_page.request_id and raw_page.request_id == raw_page.headers["X-Request-Id"]
        assert raw_page.retries_taken == 0
        page = raw_page.parse()
        assert isinstance(page, SessionPage) and len(page) == 5 and page.offset == 2
        assert page == await client.sessions.list(limit=5, offset=2)

        session_id = page.data[0].id
        emu.faults.script("503", route="get_session")
        raw_one = await client.sessions.with_raw_response.get(session_id)
        assert raw_one.status == 200 and raw_one.retries_taken == 1
        assert isinstance(raw_one.parse(), VoiceSession)
        assert raw_one.parse() == await client.sessions.get(session_id)
        assert raw_one.request_id != raw_page.request_id
    assert isinstance(client.sessions.with_raw_response, SessionsWithRawResponse)
    assert emu.stats.requests["get_session"] == 3  # 503, its retry, the plain get


async def test_raw_keeps_repeated_headers_and_masks_secrets() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        headers = CIMultiDict(
            [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Echo", KEY), ("x-request-id", "r1")]
        )
        body = SESSION_BODY if request.path.endswith("vs_wire_1") else PAGE_BODY
        return web.json_response(body, headers=headers)

    async with HostileServer() as server:
        server.handler = handler
        async with AsyncVoiceClient(api_key=KEY, base_url=server.base_url) as client:
            raws: list[RawResponse[Any]] = [
                await client.sessions.with_raw_response.get("vs_wire_1"),
                await client.sessions.with_raw_response.list(),
            ]
    for raw in raws:
        assert raw.headers.getall("set-cookie") == ["a=1", "b=2"]
        assert raw.headers["x-echo"] == "****" and raw.request_id == "r1"
        assert KEY not in repr(raw)
    assert raws[0].parse().id == "vs_wire_1"
    assert [s.id for s in raws[1].parse()] == ["vs_wire_1"]


# -- extra_headers --------------------------------------------------------------------


def _operations(client: AsyncVoiceClient) -> dict[str, Callable[..., Awaitable[Any]]]:
    """Every sessions request method, taking only ``extra_headers``."""

    async def first_of_iter(**kw: Any) -> Any:
        async with client.sessions.iter(max_items=1, **kw) as it:
            return [s async for s in it]

    return {
        "get": lambda **kw: client.sessions.get("vs_wire_1", **kw),
        "list": lambda **kw: client.sessions.list(**kw),
        "raw.get": lambda **kw: client.sessions.with_raw_response.get("vs_wire_1", **kw),
        "raw.list": lambda **kw: client.sessions.with_raw_response.list(**kw),
        "iter": first_of_iter,
    }


async def test_extra_headers_reach_the_wire_once_per_request() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(SESSION_BODY if request.path.endswith("_1") else PAGE_BODY)

    async with HostileServer() as server:
        server.handler = handler
        async with AsyncVoiceClient(
            api_key=KEY, base_url=server.base_url, default_headers={"X-Env": "test"}
        ) as client:
            for name, op in _operations(client).items():
                await op(extra_headers={"X-Trace": name, "x-env": "ci", "User-Agent": "mine/1"})
                seen = server.request_headers[-1]
                assert seen.getall("X-Trace") == [name] and seen.getall("X-Env") == ["ci"]
                assert seen.getall("User-Agent") == ["mine/1"], name
                assert seen.getall("Authorization") == [f"Bearer {KEY}"], name
            await client.sessions.get("vs_wire_1")
            assert "X-Trace" not in server.request_headers[-1]
        assert server.requests == len(_operations(client)) + 1


@pytest.mark.parametrize(
    "extra",
    [{"Authorization": "Bearer stolen"}, {"x-admin-key": "adm"}, {"X-Bad": "a\r\nb"}],
    ids=repr,
)
async def test_extra_headers_cannot_replace_credentials(extra: dict[str, str]) -> None:
    async with HostileServer() as server:
        async with AsyncVoiceClient(api_key=KEY, base_url=server.base_url) as client:
            for name, op in _operations(client).items():
                with pytest.raises(InvalidRequestError) as info:
                    await op(extra_headers=extra)
                assert info.value.field == "extra_headers", name
        assert server.requests == 0


# -- hooks ------------------------------------------------------------------------------


async def test_hooks_see_sessions_operations_with_url_templates(emu: Emulator) -> None:
    rec = Recorder()
    async with _client(emu, event_hooks=rec.hooks("request", "response")) as client:
        session_id = (await client.sessions.list(limit=1)).data[0].id
        await client.sessions.get(session_id)
        async with client.sessions.iter(limit=10, max_items=15, prefetch=False) as it:
            assert len([s async for s in it]) == 15
    requests = rec.of(RequestInfo)
    assert [(r.operation, r.method, r.url_template) for r in requests] == [
        ("sessions.list", "GET", "/api/v1/voice-sessions"),
        ("sessions.get", "GET", "/api/v1/voice-sessions/{session_id}"),
    ] + [("sessions.list", "GET", "/api/v1/voice-sessions")] * (len(requests) - 2)
    assert len(requests) >= 4  # the iterator's pages are observed too
    assert [r.status for r in rec.of(ResponseInfo)] == [200] * len(requests)
    assert all(session_id not in repr(i) for i in rec.seen)


# -- the events stream's hooks ---------------------------------------------------------------


async def test_stream_connect_and_reconnect_hooks_after_drops(emu: Emulator) -> None:
    session_id = emu.add_event_session(10)
    emu.faults.ws_drop_every(4)
    rec = Recorder()
    names = ("stream_connect", "stream_reconnect", "stream_give_up")
    async with (
        _client(emu, event_hooks=rec.hooks(*names)) as client,
        client.sessions.events(session_id) as stream,
    ):
        seqs = [event.seq async for event in stream]
    assert seqs == list(range(1, 11))  # every event once, in order, through the drops
    connects = rec.of(StreamConnectInfo)
    reconnects = rec.of(StreamReconnectInfo)
    assert connects[0] == StreamConnectInfo(session_id, STREAM_URL_TEMPLATE, 1, 0)
    assert [c.connects for c in connects] == list(range(1, len(connects) + 1))
    assert len(connects) == stream.connects == len(reconnects) + 1 >= 3
    assert [r.after_seq for r in reconnects] == [c.after_seq for c in connects[1:]]
    assert reconnects[0].after_seq == 4 and reconnects[1].after_seq == 8
    for info in reconnects:
        assert info.session_id == session_id and info.url_template == STREAM_URL_TEMPLATE
        assert info.attempt >= 1 and info.delay >= 0 and info.error
        assert emu.api_key not in repr(info)
    # The reconnects interleave with the connects they lead to.
    kinds = [type(i).__name__ for i in rec.seen]
    assert kinds[:3] == ["StreamConnectInfo", "StreamReconnectInfo", "StreamConnectInfo"]
    assert not rec.of(StreamGiveUpInfo)


async def test_stream_give_up_hook_after_the_reconnect_limit(emu: Emulator) -> None:
    session_id = emu.add_event_session(5)
    emu.faults.script(*["503"] * 10, route="events")
    rec = Recorder()
    names = ("stream_connect", "stream_reconnect", "stream_give_up")
    async with _client(emu, event_hooks=rec.hooks(*names)) as client:
        stream = client.sessions.events(session_id, options=EventStreamOptions(max_reconnects=2))
        with pytest.raises(EventStreamError) as info:
            async for _ in stream:
                pass
    assert not rec.of(StreamConnectInfo)
    reconnects = rec.of(StreamReconnectInfo)
    assert [r.attempt for r in reconnects] == [1, 2]
    (give_up,) = rec.of(StreamGiveUpInfo)
    assert rec.seen[-1] is give_up  # reported before the error is raised
    # The first handshake and two reconnects failed: "giving up after 2 ... reconnects".
    assert give_up.error is info.value and give_up.attempts == 2 and give_up.after_seq == 0
    assert "after 2 consecutive failed reconnects" in str(info.value)
    assert give_up.session_id == session_id and give_up.url_template == STREAM_URL_TEMPLATE
    assert give_up.error.__cause__ is not None  # the hook sees why, as the caller does
    assert emu.stats.requests["events"] == 3
