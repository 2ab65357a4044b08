"""Twilio webhook receiver: signatures (twilio's algorithm, our comparison) and the
aiohttp handler in front of the emulator, over real loopback sockets."""

from __future__ import annotations

import hashlib
import hmac
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import twilio.request_validator as twilio_rv  # type: ignore[import-untyped]
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import MultiDict

from voice_async import AsyncVoiceClient, ConfigurationError
from voice_async.testing import Emulator
from voice_async.webhooks import (
    SIGNATURE_HEADER,
    ReplayCache,
    TwilioInboundHandler,
    twilio_inbound_app,
    twilio_inbound_handler,
    validate_request,
    verify_twilio_signature,
)

TOKEN = "test-auth-token-0123456789abcdef"
PATH = "/twilio/voice"
ROOT = Path(__file__).resolve().parents[1]
CALL = {
    "AccountSid": "AC" + "1" * 32,
    "CallSid": "CA" + "2" * 32,
    "From": "+15555550100",
    "To": "+15555550199",
    "CallerName": "",  # Twilio sends blank fields; they are signed too
    "CallerCity": "São Paulo & Zürich",
}

# Twilio's documented example ("Webhooks security"), computed independently of us.
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def sign(url: str, params: Any = None, token: str = TOKEN) -> str:
    """What Twilio puts in X-Twilio-Signature, computed by the twilio library."""
    return str(twilio_rv.RequestValidator(token).compute_signature(url, params or {}))


# -- verify_twilio_signature -------------------------------------------------


def test_known_answer_vector_from_twilio_docs() -> None:
    assert sign(DOC_URL, DOC_PARAMS, DOC_TOKEN) == DOC_SIGNATURE
    assert verify_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert not verify_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, "1" + DOC_SIGNATURE[1:])


def test_library_signatures_accepted_and_tampering_rejected() -> None:
    url = "https://hooks.example.com/twilio/voice?tenant=acme&x=a%20b"
    signature = sign(url, CALL)
    assert verify_twilio_signature(TOKEN, url, CALL, signature)
    assert not verify_twilio_signature(TOKEN, url, {**CALL, "From": "+15555550666"}, signature)
    assert not verify_twilio_signature(TOKEN, url, {**CALL, "Extra": "1"}, signature)
    assert not verify_twilio_signature("another-token", url, CALL, signature)
    assert not verify_twilio_signature(TOKEN, url.replace("acme", "evil"), CALL, signature)
    # query strings are signed verbatim: reordering or re-encoding breaks them
    assert not verify_twilio_signature(
        TOKEN, "https://hooks.example.com/twilio/voice?x=a%20b&tenant=acme", CALL, signature
    )
    assert not verify_twilio_signature(TOKEN, url.replace("%20", "+"), CALL, signature)
    assert not verify_twilio_signature(TOKEN, url, CALL, None)
    assert not verify_twilio_signature(TOKEN, url, CALL, "")
    assert not verify_twilio_signature(TOKEN, url, CALL, "é" * 28)  # non-ASCII: no crash


def test_repeated_fields_are_all_signed() -> None:
    url = "https://hooks.example.com/sms"
    fields = MultiDict([("MediaUrl", "b"), ("MediaUrl", "a"), ("Body", "hi")])
    signature = sign(url, fields)
    assert verify_twilio_signature(TOKEN, url, fields, signature)
    assert verify_twilio_signature(TOKEN, url, {"MediaUrl": ["a", "b"], "Body": "hi"}, signature)
    assert not verify_twilio_signature(TOKEN, url, {"MediaUrl": ["a"], "Body": "hi"}, signature)


@pytest.mark.parametrize(
    ("signed_url", "checked_url", "ok"),
    [
        ("https://example.com/voice", "https://example.com:443/voice", True),
        ("https://example.com:443/voice", "https://example.com/voice", True),
        ("http://example.com:80/voice?a=1", "http://example.com/voice?a=1", True),
        ("https://example.com:8443/voice", "https://example.com:8443/voice", True),
        ("https://example.com:8443/voice", "https://example.com/voice", False),
        ("https://example.com/voice", "https://example.com:8443/voice", True),  # like twilio
        ("https://example.com/voice", "http://example.com/voice", False),
    ],
)
def test_url_with_and_without_port(signed_url: str, checked_url: str, ok: bool) -> None:
    signature = sign(signed_url, CALL)
    assert verify_twilio_signature(TOKEN, checked_url, CALL, signature) is ok
    # same answer as twilio's own validate(), only the comparison differs
    assert bool(twilio_rv.RequestValidator(TOKEN).validate(checked_url, CALL, signature)) is ok


def test_bad_port_in_url_is_rejected_not_raised() -> None:
    assert not verify_twilio_signature(TOKEN, "https://example.com:99999/x", {}, "abc=")


def test_json_body_needs_the_raw_body() -> None:
    body = '{"CallSid":"CA123","status":"completed"}'
    digest = hashlib.sha256(body.encode()).hexdigest()
    url = f"https://hooks.example.com/status?bodySHA256={digest}"
    signature = sign(url)
    assert verify_twilio_signature(TOKEN, url, body, signature)
    assert not verify_twilio_signature(TOKEN, url, body.replace("completed", "failed"), signature)
    # twilio skips the body hash when given a dict (PITFALLS.md); we refuse instead
    assert twilio_rv.RequestValidator(TOKEN).validate(url, {}, signature)
    assert not verify_twilio_signature(TOKEN, url, {}, signature)
    assert not verify_twilio_signature(TOKEN, url, None, signature)
    # a raw body without bodySHA256 was never signed
    assert not verify_twilio_signature(TOKEN, "https://hooks.example.com/s", body, sign(url))


def test_comparison_is_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    def forbidden(*args: object) -> bool:
        raise AssertionError("twilio's hand-written compare() must not be used")

    monkeypatch.setattr(hmac, "compare_digest", spy)
    monkeypatch.setattr(twilio_rv, "compare", forbidden)
    assert verify_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert (DOC_SIGNATURE.encode(), DOC_SIGNATURE.encode()) in calls
    calls.clear()
    assert not verify_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, "x" * 28)
    assert calls and all(b == b"x" * 28 for _, b in calls)


def test_token_rotation_and_bad_tokens() -> None:
    url = "https://hooks.example.com/voice"
    assert verify_twilio_signature(["new-token", TOKEN], url, CALL, sign(url, CALL))
    assert verify_twilio_signature(("old", "new-token"), url, CALL, sign(url, CALL, "new-token"))
    for bad in ("", [], ["tok-XYZ-1234", ""]):
        with pytest.raises(ConfigurationError) as info:
            verify_twilio_signature(bad, url, CALL, "sig")
        assert "XYZ" not in str(info.value)


def test_import_voice_async_does_not_import_twilio() -> None:
    code = (
        "import sys, voice_async, voice_async.testing\n"
        "assert 'twilio' not in sys.modules, 'twilio imported'\n"
        "assert 'voice_async.webhooks' not in sys.modules\n"
        "import voice_async.webhooks\n"
        "assert 'twilio.request_validator' in sys.modules\n"
        "assert 'twilio.rest' not in sys.modules, 'the REST client is not needed'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


# -- ReplayCache ---------------------------------------------------------------


def test_replay_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    cache = ReplayCache(ttl=10, max_entries=3, clock=lambda: now[0])
    assert cache.claim("CA1", "s1")
    assert not cache.claim("CA1", "s1")
    assert cache.claim("CA1", "s2")  # same call, other request (e.g. status change)
    now[0] = 10.0
    assert cache.claim("CA1", "s1")  # expired
    for i in range(10):
        cache.claim(f"CA{i}", "x")
    assert len(cache) == 3
    cache.release("CA9", "x")
    assert cache.claim("CA9", "x")
    with pytest.raises(ConfigurationError):
        ReplayCache(ttl=0)


# -- the aiohttp handler ---------------------------------------------------------

Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Run apps on loopback; yield a function returning the app's base URL."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession,
    url: str,
    form: dict[str, str],
    signature: str | None,
    *,
    follow: bool = False,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, aiohttp.ClientResponse]:
    all_headers = dict(headers or {})
    if signature is not None:
        all_headers[SIGNATURE_HEADER] = signature
    async with http.post(url, data=form, headers=all_headers, allow_redirects=follow) as resp:
        return resp.status, await resp.text(), resp


def session_id_from(twiml: str) -> str:
    assert twiml.startswith("<?xml") and "<Stream url=" in twiml
    return twiml.split("/media-stream/")[1].split('"')[0]


async def test_redirect_mode_307_to_incoming_call(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    base = await serve(twilio_inbound_app(TOKEN, forward_to=emulator.base_url))
    url = f"{base}{PATH}?tenant=acme&x=a%20b"
    status, _, resp = await post(http, url, CALL, sign(url, CALL))
    assert status == 307
    assert resp.headers["Location"] == (
        f"{emulator.base_url}/api/v1/incoming-call?tenant=acme&x=a%20b"
    )
    assert emulator.stats.requests["incoming_call"] == 0  # Twilio makes that request

    # What Twilio does with it: re-POST the same form to Location (307 keeps both).
    status, twiml, resp = await post(http, url, CALL, sign(url, CALL), follow=True)
    assert status == 200 and resp.content_type == "text/xml"
    assert [r.status for r in resp.history] == [307]
    session = emulator.session(session_id_from(twiml))
    assert session is not None
    assert session["direction"] == "inbound" and session["call_sid"] == CALL["CallSid"]
    assert emulator.stats.inbound_calls == 1


@pytest.mark.parametrize(
    "case", ["missing", "empty", "tampered", "wrong_token", "wrong_url", "extra_field"]
)
async def test_bad_signatures_get_plain_401(
    serve: Serve,
    http: aiohttp.ClientSession,
    emulator: Emulator,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = await serve(twilio_inbound_app(TOKEN, forward_to=emulator.base_url, mode="proxy"))
    url = f"{base}{PATH}"
    form = dict(CALL)
    signature: str | None = sign(url, form)
    if case == "missing":
        signature = None
    elif case == "empty":
        signature = ""
    elif case == "tampered":
        form["From"] = "+15555550666"
    elif case == "wrong_token":
        signature = sign(url, form, "not-the-token")
    elif case == "wrong_url":
        signature = sign("https://hooks.example.com/twilio/voice", form)
    elif case == "extra_field":
        form["Digits"] = "1"
    with caplog.at_level(logging.WARNING, logger="voice_async.webhooks"):
        status, body, resp = await post(http, url, form, signature, follow=True)
    assert (status, body, resp.content_type) == (401, "Unauthorized", "text/plain")
    assert not resp.history
    assert emulator.stats.requests["incoming_call"] == 0
    assert TOKEN not in caplog.text and (not signature or signature not in caplog.text)


async def test_proxy_mode_returns_statesets_twiml(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    handler = twilio_inbound_handler(TOKEN, forward_to=emulator.base_url, mode="proxy")
    base = await serve(handler.mount(web.Application(), PATH))
    url = f"{base}{PATH}"
    status, twiml, resp = await post(http, url, CALL, sign(url, CALL))
    assert status == 200 and resp.content_type == "text/xml" and not resp.history
    session = emulator.session(session_id_from(twiml))
    assert session is not None and session["direction"] == "inbound"
    assert session["from"] == CALL["From"] and session["to"] == CALL["To"]
    assert emulator.stats.inbound_calls == 1
    assert emulator.stats.requests["incoming_call"] == 1
    # by hand, the aiohttp way, on a second app
    app = web.Application()
    app.router.add_post("/voice", handler.handle)
    url = f"{await serve(app)}/voice"
    other = {**CALL, "CallSid": "CA" + "4" * 32}
    assert (await post(http, url, other, sign(url, other)))[0] == 200
    assert emulator.stats.inbound_calls == 2
    own_client = handler._client
    assert own_client is not None and not own_client.is_closed


async def test_proxy_mode_closes_its_own_client_on_cleanup(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    handler = twilio_inbound_handler(TOKEN, forward_to=emulator.base_url, mode="proxy")
    server = TestServer(handler.mount(web.Application(), PATH), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url(PATH))
    assert (await post(http, url, CALL, sign(url, CALL)))[0] == 200
    client = handler._client
    assert client is not None
    await server.close()
    assert client.is_closed and handler._client is None


async def test_proxy_mode_uses_the_given_client_and_leaves_it_open(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    async with AsyncVoiceClient(base_url=emulator.base_url, api_key="unused") as client:
        handler = twilio_inbound_handler(TOKEN, client=client, mode="proxy")
        assert handler.target == f"{emulator.base_url}/api/v1/incoming-call"
        base = await serve(handler.mount(web.Application(), PATH))
        url = f"{base}{PATH}"
        assert (await post(http, url, CALL, sign(url, CALL)))[0] == 200
        await handler.close()
        assert not client.is_closed and handler._client is client
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
    status, body, _ = await post(http, url, CALL, sign(url, CALL))
    assert (status, body) == (502, "Bad Gateway")
    assert time.perf_counter() - started < 2
    assert emulator.stats.requests["incoming_call"] == 1  # not retried by the SDK
    # Twilio retries the webhook: the replay cache must not hold the failure against it
    status, twiml, _ = await post(http, url, CALL, sign(url, CALL))
    assert status == 200 and emulator.session(session_id_from(twiml)) is not None
    assert len(cache) == 1
    assert (await post(http, url, CALL, sign(url, CALL)))[0] == 401  # now it is a replay


async def test_replay_cache_rejects_a_replayed_request(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    app = twilio_inbound_app(TOKEN, forward_to=emulator.base_url, replay_cache=ReplayCache(60))
    url = f"{await serve(app)}{PATH}"
    assert (await post(http, url, CALL, sign(url, CALL)))[0] == 307
    assert (await post(http, url, CALL, sign(url, CALL)))[:2] == (401, "Unauthorized")
    other = {**CALL, "CallSid": "CA" + "3" * 32}
    assert (await post(http, url, other, sign(url, other)))[0] == 307


# -- behind a proxy / load balancer ---------------------------------------------


@pytest.mark.parametrize(
    ("public_url", "signed_url"),
    [
        ("https://hooks.example.com", f"https://hooks.example.com{PATH}?q=1"),
        ("https://hooks.example.com/", f"https://hooks.example.com{PATH}?q=1"),
        # the proxy strips a /prefix the app never sees
        ("https://hooks.example.com/prefix/voice", "https://hooks.example.com/prefix/voice?q=1"),
        # a pinned query string is used as is
        (
            "https://hooks.example.com/voice?tenant=acme",
            "https://hooks.example.com/voice?tenant=acme",
        ),
        ("https://hooks.example.com:443", f"https://hooks.example.com{PATH}?q=1"),
    ],
)
async def test_explicit_public_url(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator, public_url: str, signed_url: str
) -> None:
    app = twilio_inbound_app(TOKEN, forward_to=emulator.base_url, public_url=public_url)
    local = f"{await serve(app)}{PATH}?q=1"
    assert (await post(http, local, CALL, sign(signed_url, CALL)))[0] == 307
    assert (await post(http, local, CALL, sign(local, CALL)))[0] == 401


async def test_forwarded_headers_only_when_trusted(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    signed_url = f"https://hooks.example.com{PATH}"
    forwarded = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "hooks.example.com:443"}
    trusting = await serve(
        twilio_inbound_app(TOKEN, forward_to=emulator.base_url, trust_forwarded=True)
    )
    plain = await serve(twilio_inbound_app(TOKEN, forward_to=emulator.base_url))
    signature = sign(signed_url, CALL)
    assert (await post(http, trusting + PATH, CALL, signature, headers=forwarded))[0] == 307
    assert (await post(http, plain + PATH, CALL, signature, headers=forwarded))[0] == 401
    # trusted, but without the headers: the URL the app sees is used
    local_sig = sign(trusting + PATH, CALL)
    assert (await post(http, trusting + PATH, CALL, local_sig))[0] == 307
    bad = {"X-Forwarded-Host": "hooks.example.com:notaport"}
    assert (await post(http, trusting + PATH, CALL, signature, headers=bad))[0] == 401


# -- validate_request in your own handler ----------------------------------------


async def test_validate_request_in_a_custom_handler(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    cache = ReplayCache()

    async def handler(request: web.Request) -> web.Response:
        ok = await validate_request(request, TOKEN, replay_cache=cache)
        form = await request.post() if ok and request.content_type.endswith("urlencoded") else {}
        return web.json_response({"ok": ok, "sid": form.get("CallSid")})

    app = web.Application()
    app.router.add_post("/hook", handler)
    base = await serve(app)
    url = f"{base}/hook?x=1"
    async with http.post(url, data=CALL, headers={SIGNATURE_HEADER: sign(url, CALL)}) as resp:
        assert await resp.json() == {"ok": True, "sid": CALL["CallSid"]}  # body still readable
    async with http.post(url, data=CALL, headers={SIGNATURE_HEADER: sign(url, CALL)}) as resp:
        assert (await resp.json())["ok"] is False  # replayed

    body = '{"CallSid":"CA9","status":"completed"}'
    json_url = f"{base}/hook?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    headers = {SIGNATURE_HEADER: sign(json_url), "Content-Type": "application/json"}
    async with http.post(json_url, data=body, headers=headers) as resp:
        assert (await resp.json())["ok"] is True
    async with http.post(json_url, data=body.replace("9", "8"), headers=headers) as resp:
        assert (await resp.json())["ok"] is False
    # a non-form body nobody signed, and a body that is not UTF-8
    for data, ctype in ((body, "application/json"), (b"\xff\xfe", "text/plain")):
        headers = {SIGNATURE_HEADER: sign(url), "Content-Type": ctype}
        async with http.post(url, data=data, headers=headers) as resp:
            assert (await resp.json())["ok"] is False
    bad_form = f"CallSid={quote('é')}%ff"
    headers = {SIGNATURE_HEADER: sign(url), "Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(url, data=bad_form, headers=headers) as resp:
        assert (await resp.json())["ok"] is False


def test_handler_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    with pytest.raises(ConfigurationError):
        twilio_inbound_handler()
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    handler = twilio_inbound_handler(forward_to="https://voice.example.com/base/")
    assert isinstance(handler, TwilioInboundHandler)
    assert handler.target == "https://voice.example.com/base/api/v1/incoming-call"
    assert TOKEN not in repr(handler)
    with pytest.raises(ConfigurationError):
        twilio_inbound_handler(forward_to="http://voice.example.com")  # Twilio data in clear
    with pytest.raises(ConfigurationError):
        twilio_inbound_handler(mode="bounce")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        twilio_inbound_handler(public_url="hooks.example.com/voice")


# -- the example -------------------------------------------------------------


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
def test_example_self_test(mode: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "webhook_receiver.py"),
            "--self-test",
            "--mode",
            mode,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "TWILIO_AUTH_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "signed request:   200" in out and "<Stream url=" in out
    assert ("[307]" in out) is (mode == "redirect")
    assert "tampered request: 401" in out
    assert "inbound sessions created on StateSet: 1" in out
    assert "self-test passed" in out
    assert TOKEN not in out + result.stderr
