"""Proxies: one rule for REST and the live-events WebSocket.

End to end against the emulator through a real HTTP proxy on loopback
(``_connect_proxy``), which records every request it carries: aiohttp sends
plain-http REST calls in absolute form, python-websockets tunnels the events
stream with CONNECT.  Each test checks both routes, since the point is that
they never differ.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from yarl import URL

from voice_async import (
    APIError,
    AsyncVoiceClient,
    ConfigurationError,
    EventStreamError,
    EventStreamOptions,
    EventType,
)
from voice_async._proxy import ProxyConfig, ProxyURL, select_proxy
from voice_async.testing import Emulator

from ._connect_proxy import ConnectProxy

PASSWORD = "pr0xy-s3cret-Pa55"


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from an environment without proxy variables."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


@pytest.fixture
async def proxy() -> AsyncIterator[ConnectProxy]:
    async with ConnectProxy() as running:
        yield running


def new_client(emu: Emulator, **kwargs: Any) -> AsyncVoiceClient:
    return AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url, **kwargs)


async def rest_and_events(client: AsyncVoiceClient) -> None:
    """make_call, sessions.list and a full events stream: every route the SDK has."""
    async with client:
        call = await client.make_call(
            to="+15555555678", from_="+15555551234", agent_key="support_primary"
        )
        page = await client.sessions.list(limit=5)
        assert call.session_id in {s.id for s in page.data}
        events = [event async for event in client.sessions.events(call.session_id)]
        assert events[-1].type is EventType.SESSION_ENDED


def assert_all_proxied(proxy: ConnectProxy, emu: Emulator) -> None:
    origin = URL(emu.base_url)
    rest = [s for s in proxy.seen if s.method != "CONNECT"]
    tunnels = [s for s in proxy.seen if s.method == "CONNECT"]
    assert [s.method for s in rest] == ["POST", "GET"]  # make_call, sessions.list
    assert all(URL(s.target).origin() == origin for s in rest)
    assert [s.target for s in tunnels] == [f"{origin.host}:{origin.port}"]  # the events stream


# -- routes ----------------------------------------------------------------------


async def test_explicit_proxy_carries_rest_and_events(emu: Emulator, proxy: ConnectProxy) -> None:
    await rest_and_events(new_client(emu, proxy=proxy.url))
    assert_all_proxied(proxy, emu)


async def test_environment_is_ignored_by_default(
    emu: Emulator, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # websockets >= 15 alone would tunnel ws:// through HTTPS_PROXY here.
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, proxy.url)
    await rest_and_events(new_client(emu))
    assert proxy.seen == []


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
async def test_trust_env_routes_both_through_the_environment_proxy(
    emu: Emulator, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    await rest_and_events(new_client(emu, trust_env=True))
    assert_all_proxied(proxy, emu)


async def test_https_proxy_does_not_serve_plain_http_or_ws_targets(
    emu: Emulator, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # websockets alone prefers HTTPS_PROXY even for ws://; aiohttp does not use it
    # for http://.  The one rule: https_proxy serves https/wss targets only.
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    await rest_and_events(new_client(emu, trust_env=True))
    assert proxy.seen == []


@pytest.mark.parametrize(
    ("no_proxy", "proxied"),
    [
        ("127.0.0.1", False),
        ("{port_entry}", False),  # host:port: aiohttp alone matches the host only
        ("example.com, .127.0.0.1", False),
        ("*", False),
        ("example.com,10.0.0.1", True),
        ("127.0.0.1:1", True),  # another port of the same host
    ],
)
async def test_no_proxy_is_honoured_identically(
    emu: Emulator,
    proxy: ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: str,
    proxied: bool,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy.format(port_entry=URL(emu.base_url).authority))
    await rest_and_events(new_client(emu, trust_env=True))
    if proxied:
        assert_all_proxied(proxy, emu)
    else:
        assert proxy.seen == []


async def test_explicit_proxy_wins_over_environment_and_no_proxy(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ConnectProxy() as chosen, ConnectProxy() as from_env:
        monkeypatch.setenv("HTTP_PROXY", from_env.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        await rest_and_events(new_client(emu, proxy=chosen.url, trust_env=True))
    assert_all_proxied(chosen, emu)
    assert from_env.seen == []


# -- credentials -----------------------------------------------------------------


@pytest.mark.parametrize("password", [PASSWORD, "p@ss/w:rd%-" + PASSWORD])
async def test_proxy_credentials_are_sent_and_never_shown(
    emu: Emulator, caplog: pytest.LogCaptureFixture, password: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="voice_async")
    async with ConnectProxy(auth=("alice", password)) as proxy:
        userinfo = f"alice:{quote(password, safe='')}@"
        client = new_client(emu, proxy=proxy.url.replace("://", f"://{userinfo}"))
        shown = [repr(client), repr(client.config), str(client.config.proxy)]
        await rest_and_events(client)
    assert_all_proxied(proxy, emu)
    basic = base64.b64encode(f"alice:{password}".encode()).decode()
    assert {s.proxy_authorization for s in proxy.seen} == {f"Basic {basic}"}
    assert "****@127.0.0.1" in str(client.config.proxy)
    for text in [*shown, caplog.text]:
        assert PASSWORD not in text


async def test_rejected_proxy_credentials_fail_without_showing_them(emu: Emulator) -> None:
    async with ConnectProxy(auth=("alice", "the-right-one")) as proxy:
        client = new_client(emu, proxy=proxy.url.replace("://", f"://alice:{PASSWORD}@"))
        async with client:
            with pytest.raises(APIError) as rest_error:
                await client.sessions.list()
            with pytest.raises(EventStreamError) as ws_error:
                once = EventStreamOptions(max_reconnects=0)
                async with client.sessions.events("sess_1", options=once):
                    pass
    assert {s.method for s in proxy.seen} == {"GET", "CONNECT"}
    for exc in (rest_error.value, ws_error.value):
        chain = [exc, exc.__cause__, exc.__context__]
        assert all(PASSWORD not in repr(e) and PASSWORD not in str(e) for e in chain)


def test_transport_masks_proxy_credentials_in_server_text(emu: Emulator) -> None:
    client = new_client(emu, proxy=f"http://alice:{PASSWORD}@127.0.0.1:3128")
    assert PASSWORD in client._transport.secrets
    assert client.with_options(timeout=5)._transport.secrets == client._transport.secrets


# -- validation, before anything is sent -------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ftp://proxy.corp:21",
        f"socks5://alice:{PASSWORD}@proxy.corp:1080",
        "proxy.corp:3128",  # no scheme: ambiguous in code
        "http://",
        "http://proxy.corp:99999",
        "http://proxy.corp:3128/some/path",
        "http://proxy.corp:3128?x=1",
        "http://alice@proxy.corp:3128",  # Basic auth needs a password
        b"http://proxy.corp:3128",
        3128,
    ],
)
def test_bad_proxy_is_a_configuration_error(bad: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        AsyncVoiceClient(api_key="sk_test_key", proxy=bad)
    assert PASSWORD not in str(info.value)


def test_bad_trust_env_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="trust_env"):
        AsyncVoiceClient(api_key="sk_test_key", trust_env="yes")  # type: ignore[arg-type]


def test_bad_environment_proxy_fails_only_when_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", f"socks5h://alice:{PASSWORD}@127.0.0.1:1080")
    AsyncVoiceClient(api_key="sk_test_key")  # not read: nothing to complain about
    with pytest.raises(ConfigurationError, match="ALL_PROXY: SOCKS") as info:
        AsyncVoiceClient(api_key="sk_test_key", trust_env=True)
    assert PASSWORD not in str(info.value)


async def test_http_session_keeps_its_own_proxy_settings() -> None:
    async with aiohttp.ClientSession(trust_env=True) as session:
        client = AsyncVoiceClient(api_key="sk_test_key", http_session=session)
        assert client.config.proxy.trust_env  # the events stream follows the session
        for kwargs in ({"proxy": "http://127.0.0.1:3128"}, {"trust_env": False}):
            with pytest.raises(ConfigurationError, match="http_session"):
                AsyncVoiceClient(api_key="sk_test_key", http_session=session, **kwargs)
        AsyncVoiceClient(api_key="sk_test_key", http_session=session, trust_env=True)


# -- the rule itself -----------------------------------------------------------------


def rule(env: dict[str, str], target: str, proxy: str | None = None) -> str | None:
    chosen = select_proxy(ProxyConfig.resolve(proxy, True, env), URL(target))
    return None if chosen is None else chosen.reveal()


def test_rule_maps_websocket_schemes_like_http_ones() -> None:
    env = {"HTTP_PROXY": "http://plain:1", "HTTPS_PROXY": "http://tls:2"}
    assert rule(env, "http://api.example/x") == rule(env, "ws://api.example/x") == "http://plain:1"
    assert rule(env, "https://api.example/") == rule(env, "wss://api.example/") == "http://tls:2"
    assert rule({"ALL_PROXY": "http://all:3"}, "wss://api.example/") == "http://all:3"


def test_rule_reads_the_environment_like_urllib() -> None:
    # lowercase wins, even when empty; scheme-less values are http
    assert rule({"http_proxy": "low:1", "HTTP_PROXY": "http://up:2"}, "http://a/") == "http://low:1"
    assert rule({"http_proxy": "", "HTTP_PROXY": "http://up:2"}, "http://a/") is None
    # httpoxy: under CGI, HTTP_PROXY may come from a request header
    assert rule({"HTTP_PROXY": "http://up:2", "REQUEST_METHOD": "GET"}, "http://a/") is None
    bypassed = {"NO_PROXY": "example.com", "HTTP_PROXY": "http://p:1"}
    assert rule(bypassed, "ws://api.example.com/") is None
    assert rule({}, "https://api.example/") is None


def test_proxy_url_masks_user_and_password() -> None:
    url = ProxyURL.parse(f"http://alice:{PASSWORD}@proxy.corp:3128", "proxy")
    assert repr(url) == "ProxyURL('http://****@proxy.corp:3128')"
    assert url.reveal() == f"http://alice:{PASSWORD}@proxy.corp:3128"
    assert PASSWORD in url.secrets() and f"alice:{PASSWORD}" in url.secrets()
    assert ProxyURL.parse("http://proxy.corp:3128/", "proxy").secrets() == ()
