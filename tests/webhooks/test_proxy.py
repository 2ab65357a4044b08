"""Proxy mode: the handler forwards the verified form itself and returns StateSet's TwiML."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from voice_async import AsyncVoiceClient, ConfigurationError
from voice_async.testing import Emulator
from voice_async.webhooks import (
    ReplayCache,
    twilio_inbound_app,
    twilio_inbound_handler,
    verify_twilio_signature,
)

from ._support import CALL, PATH, TOKEN, call, post, post_signed, session_id_from, sign
from .conftest import Serve, Upstream

HERE = Path(__file__).resolve().parent


def open_sessions() -> set[int]:
    """Every aiohttp ClientSession still open in this process."""
    gc.collect()
    return {
        id(obj)
        for obj in gc.get_objects()
        if isinstance(obj, aiohttp.ClientSession) and not obj.closed
    }


async def test_proxy_mode_returns_statesets_twiml(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    handler = twilio_inbound_handler(TOKEN, forward_to=emulator.base_url, mode="proxy")
    url = await serve(handler.mount(web.Application(), PATH)) + PATH
    status, twiml, resp = await post_signed(http, url, CALL)
    assert status == 200 and resp.content_type == "text/xml" and not resp.history
    session = emulator.session(session_id_from(twiml))
    assert session is not None and session["direction"] == "inbound"
    assert session["from"] == CALL["From"] and session["to"] == CALL["To"]
    assert emulator.stats.inbound_calls == 1
    assert emulator.stats.requests["incoming_call"] == 1


async def test_proxy_mode_uses_the_given_client_and_leaves_it_open(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    async with AsyncVoiceClient(base_url=emulator.base_url, api_key="unused") as client:
        handler = twilio_inbound_handler(TOKEN, client=client, mode="proxy")
        assert handler.target == f"{emulator.base_url}/api/v1/incoming-call"
        # forward_to may repeat the client's base URL or its incoming-call URL
        for same in (emulator.base_url, handler.target):
            assert twilio_inbound_handler(TOKEN, client=client, forward_to=same).target == (
                handler.target
            )
        url = await serve(handler.mount(web.Application(), PATH)) + PATH
        assert (await post_signed(http, url, CALL))[0] == 200
        await handler.close()
        assert not client.is_closed
        assert emulator.stats.inbound_calls == 1
    with pytest.raises(ConfigurationError):
        twilio_inbound_handler(TOKEN, client=client, forward_to="https://elsewhere.example")


@pytest.mark.parametrize("fault", ["503", "hang", "reset"])
async def test_proxy_mode_upstream_failure_is_502_and_retry_allowed(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator, fault: str
) -> None:
    cache = ReplayCache()
    app = twilio_inbound_app(
        TOKEN,
        forward_to=emulator.base_url,
        mode="proxy",
        replay_cache=cache,
        forward_timeout=0.3,  # well under Twilio's 15 s
    )
    url = f"{await serve(app)}{PATH}"
    emulator.faults.script(fault, route="incoming_call")
    started = time.perf_counter()
    status, body, _ = await post_signed(http, url, CALL)
    assert (status, body) == (502, "Bad Gateway")
    assert time.perf_counter() - started < 5
    assert emulator.stats.requests["incoming_call"] == 1  # not retried by the SDK
    # Twilio retries the webhook: the replay cache must not hold the failure against it
    status, twiml, _ = await post_signed(http, url, CALL)
    assert status == 200 and emulator.session(session_id_from(twiml)) is not None
    assert len(cache) == 1
    assert (await post_signed(http, url, CALL))[0] == 401  # now it is a replay


async def test_a_json_webhook_cannot_be_proxied(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    import hashlib

    app = twilio_inbound_app(TOKEN, forward_to=emulator.base_url, mode="proxy")
    base = await serve(app)
    body = '{"CallSid":"CA9"}'
    url = f"{base}{PATH}?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    headers = {"X-Twilio-Signature": sign(url), "Content-Type": "application/json"}
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 415
    assert emulator.stats.requests["incoming_call"] == 0


# -- 2. nothing leaks, however it is mounted ----------------------------------------------


@pytest.mark.parametrize("mounting", ["bare", "mounted"])
async def test_no_session_left_open_after_shutdown(
    http: aiohttp.ClientSession, emulator: Emulator, mounting: str
) -> None:
    before = open_sessions()
    handler = twilio_inbound_handler(TOKEN, forward_to=emulator.base_url, mode="proxy")
    app = web.Application()
    if mounting == "mounted":
        handler.mount(app, PATH)
    else:
        app.router.add_post(PATH, handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url(PATH))
    for digit in "345":
        assert (await post_signed(http, url, call(digit)))[0] == 200
    # mounted: one pooled session serves every call; bare: none outlives its request
    assert len(open_sessions() - before) == (1 if mounting == "mounted" else 0)
    await server.close()
    assert open_sessions() == before
    assert emulator.stats.inbound_calls == 3


@pytest.mark.parametrize("mounting", ["bare", "mounted", "control"])
def test_nothing_leaks_at_interpreter_exit(mounting: str) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", str(HERE / "_leak_check.py"), mounting],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(HERE.parents[1])},
    )
    assert result.returncode == 0, result.stderr
    assert "inbound calls: 3" in result.stdout
    if mounting == "control":  # the check can fail: a real leak reaches stderr
        assert "Unclosed client session" in result.stderr
    else:
        assert result.stderr == ""


# -- 4. a replay with shifted field boundaries is still a replay -----------------------------


@pytest.mark.parametrize("cache", [True, False])
async def test_one_captured_request_makes_one_inbound_session(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator, cache: bool
) -> None:
    app = twilio_inbound_app(
        TOKEN,
        forward_to=emulator.base_url,
        mode="proxy",
        replay_cache=ReplayCache() if cache else None,
    )
    url = await serve(app) + PATH
    captured = {
        "AccountSid": "AC1",
        "CallSid": "CA1",
        "CallStatus": "ringing",
        "From": "+15555550100",
        "To": "+15555550199",
    }
    signature = sign(url, captured)
    assert (await post(http, url, captured, signature))[0] == 200
    # Twilio signs key+value with no separator: the same bytes, split differently
    shifted = {
        "AccountSid": "AC1",
        "CallSid": "CA1CallStatusringing",
        "From": "+15555550100",
        "To": "+15555550199",
    }
    assert verify_twilio_signature(TOKEN, url, shifted, signature)
    status, _, _ = await post(http, url, shifted, signature)
    if cache:
        assert status == 401
        assert emulator.stats.inbound_calls == 1
    else:  # the control: without the cache the attack does create a second call
        assert status == 200
        assert emulator.stats.inbound_calls == 2


# -- 6. only the form goes upstream; the token never shows --------------------------------


async def test_only_the_verified_form_is_forwarded(
    serve: Serve, http: aiohttp.ClientSession, upstream: Upstream
) -> None:
    app = twilio_inbound_app(TOKEN, forward_to=upstream.base_url, mode="proxy")
    url = await serve(app) + PATH + "?tenant=acme"
    attacker = {
        "Authorization": "Bearer stolen",
        "Cookie": "session=1",
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Host": "evil.example",
        "X-Admin-Key": "adm_guess",
        "X-Custom": "1",
        "User-Agent": "attacker/1.0",
    }
    status, twiml, _ = await post(http, url, CALL, sign(url, CALL), headers=attacker)
    assert status == 200 and twiml == upstream.body
    [seen] = upstream.seen
    assert seen.path == "/api/v1/incoming-call"
    for name in [*attacker, "X-Twilio-Signature"]:
        if name != "User-Agent":
            assert name not in seen.headers, name
    assert "attacker" not in seen.headers.get("User-Agent", "")
    assert "tenant" not in seen.path
    from urllib.parse import parse_qsl

    assert dict(parse_qsl(seen.body.decode(), keep_blank_values=True)) == CALL


async def test_the_token_never_reaches_a_log_even_if_upstream_echoes_it(
    serve: Serve,
    http: aiohttp.ClientSession,
    upstream: Upstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream.status = 500
    upstream.body = f'{{"error": {{"message": "bad token {TOKEN}"}}}}'
    upstream.headers = {"x-request-id": TOKEN}
    handler = twilio_inbound_handler(TOKEN, forward_to=upstream.base_url, mode="proxy")
    url = await serve(handler.mount(web.Application(), PATH)) + PATH
    # INFO and up: the transport's own DEBUG line prints x-request-id, which
    # the client-wide masking of server-echoed secrets covers (the forwarder
    # registers the Twilio token with it).
    with caplog.at_level(logging.INFO):
        status, body, _ = await post_signed(http, url, CALL)
    assert (status, body) == (502, "Bad Gateway")
    assert "forwarding Twilio webhook" in caplog.text and "bad token ****" in caplog.text
    assert TOKEN not in caplog.text and TOKEN not in repr(handler)
