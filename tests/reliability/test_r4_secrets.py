"""R4: keys stay secret, and each key goes only where it belongs.

* A busy, failure-ridden session (retries, status errors, wrong keys, event
  streams reconnecting) with *every* logger at DEBUG: neither key appears in
  any log record, ``repr``/``str`` of the clients, or any error (message,
  attributes, formatted traceback).
* Seen from the server side: the admin key only on ``/admin/`` routes, the
  Bearer key only elsewhere, and neither on a redirect to another origin.
* The Bearer key cannot reach admin routes, however it is sent.
* ``http://`` to anything but loopback is refused at construction.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voice_async import (
    AsyncVoiceClient,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    MissingCredentialsError,
    PermissionDeniedError,
    Runtime,
    VoiceError,
)
from voice_async.testing import Emulator

from . import _payloads as p
from ._servers import Reply, ScriptedServer
from .conftest import (
    CALL,
    FAST_RETRY,
    TEST_ADMIN_KEY,
    TEST_API_KEY,
    client_for,
    client_on,
    outcome,
)

API_KEY = "sk_live_R4tenantkey_9f8e7d6c5b4a"
ADMIN_KEY = "adm_live_R4adminkey_1a2b3c4d5e6f"
WRONG_KEYS = ("sk_live_R4wrongtenant_00000000", "adm_live_R4wrongadmin_11111111")
ALL_KEYS = (API_KEY, ADMIN_KEY, *WRONG_KEYS)


@pytest.fixture
async def keyed_emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=4, api_key=API_KEY, admin_key=ADMIN_KEY, event_interval=60.0) as e:
        yield e


async def _try(awaitable: Any, found: list[object]) -> None:
    try:
        await awaitable
    except VoiceError as exc:
        found.append(exc)


async def _drain_events(client: AsyncVoiceClient, session_id: str, found: list[object]) -> None:
    async def drain() -> None:
        async for _ in client.sessions.events(session_id):
            pass

    await _try(drain(), found)


async def _busy_session(emu: Emulator) -> list[object]:
    """Exercise every code path that could print a key; return what to inspect."""
    found: list[object] = []
    async with client_for(emu, runtime=Runtime(sleep=_no_wait)) as client:
        found += [client, client.config, FAST_RETRY]
        emu.faults.fail_rate(0.5, route="make_call", seed=2)
        for _ in range(20):
            await _try(client.make_call(**CALL), found)
        emu.faults.clear()
        config = await client.admin.get_runtime_config(emu.tenant_id)
        await client.admin.update_runtime_config(emu.tenant_id, voice="verse")
        await _try(
            client.admin.update_runtime_config(emu.tenant_id, voice="x", if_match=config.version),
            found,
        )
        await _try(client.sessions.get("vs_missing"), found)
        emu.faults.ws_drop_every(5, "abrupt")
        await _drain_events(client, emu.add_event_session(20), found)
        emu.faults.ws_drop_every(None)
    async with AsyncVoiceClient(
        api_key=WRONG_KEYS[0], admin_key=WRONG_KEYS[1], base_url=emu.base_url
    ) as wrong:
        found.append(wrong)
        await _try(wrong.sessions.list(), found)
        await _try(wrong.admin.get_runtime_config(emu.tenant_id), found)
        await _drain_events(wrong, emu.add_event_session(3), found)
    async with AsyncVoiceClient(api_key=API_KEY, base_url=emu.base_url) as tenant_only:
        await _try(tenant_only.admin.get_runtime_config(emu.tenant_id), found)
    return found


async def _no_wait(_: float) -> None:
    return None


def _texts(obj: object) -> list[str]:
    texts = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        texts += ["".join(traceback.format_exception(obj)), repr(vars(obj)), repr(obj.args)]
    return texts


async def test_keys_never_in_logs_reprs_or_errors(
    keyed_emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: aiohttp, websockets, everyone
    found = await _busy_session(keyed_emu)
    errors = [f for f in found if isinstance(f, BaseException)]
    kinds = {type(e) for e in errors}
    # The session really went through the risky paths.
    assert {AuthenticationError, ConflictError, MissingCredentialsError} <= kinds
    assert any("StreamUnauthorized" in type(e).__name__ for e in errors)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = [formatter.format(record) for record in caplog.records]
    inspected = logged + [text for obj in found for text in _texts(obj)]
    for key in ALL_KEYS:
        leaks = [text[:200] for text in inspected if key in text]
        assert leaks == [], f"key ending {key[-4:]} leaked: {leaks[:3]}"


# -- what the server sees ----------------------------------------------------------


async def _every_route(client: AsyncVoiceClient) -> None:
    for op, _ in p.OPS.values():
        await outcome(op(client))
    await outcome(client.admin.update_runtime_config("tn_123", voice="alloy"))

    async def events() -> None:
        async for _ in client.sessions.events("vs_1"):
            pass

    await outcome(events())


async def test_each_key_only_on_its_routes(scripted: ScriptedServer) -> None:
    scripted.frames = [p.event(1, "session.ended")]
    scripted.reply = Reply(200, p.encode(p.CONFIG))
    async with client_on(scripted.base_url, max_retries=0) as client:
        await _every_route(client)
    paths = {seen.path for seen in scripted.seen}
    assert any(path.endswith("/events") for path in paths) and len(scripted.seen) == 6
    for seen in scripted.seen:
        if "/admin/" in seen.path:
            assert "authorization" not in seen.headers, seen.path
            assert seen.headers["x-admin-key"] == TEST_ADMIN_KEY
        else:
            assert "x-admin-key" not in seen.headers, seen.path
            assert seen.headers["authorization"] == f"Bearer {TEST_API_KEY}"


async def test_no_key_follows_a_redirect_to_another_origin(scripted: ScriptedServer) -> None:
    """A proxy or attacker answering 307 to another host must not harvest a key."""
    async with ScriptedServer() as elsewhere:
        elsewhere.frames = [p.event(1, "session.ended")]
        elsewhere.reply = Reply(200, p.encode(p.CONFIG))
        scripted.redirect_to = elsewhere.base_url
        async with client_on(
            scripted.base_url, max_retries=0, runtime=Runtime(sleep=_no_wait)
        ) as client:
            await _every_route(client)
    assert len(scripted.seen) >= 6
    leaked = [
        (seen.method, seen.path, sorted({"authorization", "x-admin-key"} & set(seen.headers)))
        for seen in elsewhere.seen
        if {"authorization", "x-admin-key"} & set(seen.headers)
    ]
    assert leaked == [], leaked


async def test_bearer_key_cannot_reach_admin_routes(keyed_emu: Emulator) -> None:
    url = f"{keyed_emu.base_url}/api/v1/admin/tenants/{keyed_emu.tenant_id}/runtime-config"
    attempts = [
        {"Authorization": f"Bearer {API_KEY}"},
        {"x-admin-key": API_KEY},
        {"Authorization": f"Bearer {ADMIN_KEY}"},
        {"Authorization": f"Bearer {API_KEY}", "x-admin-key": ""},
    ]
    async with aiohttp.ClientSession() as raw:
        for headers in attempts:
            for method in ("GET", "PUT"):
                async with raw.request(method, url, headers=headers, json={"voice": "x"}) as r:
                    assert r.status in (401, 403), (method, list(headers))
    async with AsyncVoiceClient(
        api_key=API_KEY, admin_key=API_KEY, base_url=keyed_emu.base_url, retry_policy=FAST_RETRY
    ) as confused:
        with pytest.raises((AuthenticationError, PermissionDeniedError)):
            await confused.admin.get_runtime_config(keyed_emu.tenant_id)
    assert (await _current_voice(keyed_emu)) != "x"


async def _current_voice(emu: Emulator) -> Any:
    async with AsyncVoiceClient(admin_key=ADMIN_KEY, base_url=emu.base_url) as admin:
        return (await admin.admin.get_runtime_config(emu.tenant_id)).voice


# -- transport security at construction ------------------------------------------

labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
hostnames = st.builds(lambda parts: ".".join(parts), st.lists(labels, min_size=1, max_size=4))
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))


@given(host=st.one_of(hostnames, ipv4), port=st.none() | st.integers(1, 65535))
def test_plain_http_only_to_loopback(host: str, port: int | None) -> None:
    url = f"http://{host}" + (f":{port}" if port else "")
    loopback = host == "localhost" or host.startswith("127.")
    if loopback:
        AsyncVoiceClient(api_key=API_KEY, base_url=url)
    else:
        with pytest.raises(ConfigurationError, match="refusing plain http"):
            AsyncVoiceClient(api_key=API_KEY, base_url=url)
    AsyncVoiceClient(api_key=API_KEY, base_url=url.replace("http://", "https://"))


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
        "http://127.0.0.1@evil.example",
        "http://evil.example\\@127.0.0.1",
        "http://0.0.0.0:8787",
        "http://[::]:8787",
        "http://[fe80::1]",
        "HTTP://voice.stateset.app",
    ],
)
def test_lookalike_loopback_hosts_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        AsyncVoiceClient(api_key=API_KEY, base_url=url)
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", url)  # the environment gets no pass
    with pytest.raises(ConfigurationError):
        AsyncVoiceClient(api_key=API_KEY)
