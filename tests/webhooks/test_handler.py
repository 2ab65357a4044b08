"""The aiohttp handler end to end: real servers on loopback, real Twilio signatures,
the emulator as StateSet."""

from __future__ import annotations

import hashlib
import logging
import warnings
from urllib.parse import quote, urlsplit

import aiohttp
import pytest
from aiohttp import web

from voice_async import ConfigurationError
from voice_async.testing import Emulator
from voice_async.webhooks import (
    SIGNATURE_HEADER,
    ReplayCache,
    TwilioInboundHandler,
    TwilioVoiceWebhook,
    parse_twilio_voice_webhook,
    twilio_inbound_app,
    twilio_inbound_handler,
    validate_request,
)

from ._support import CALL, PATH, TOKEN, call, post, post_signed, session_id_from, sign
from .conftest import Serve, Upstream

INCOMING = "/api/v1/incoming-call"


# -- 1. the object is an aiohttp handler ------------------------------------------


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
async def test_add_post_takes_the_handler_as_is(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator, mode: str
) -> None:
    handler = twilio_inbound_handler(TOKEN, forward_to=emulator.base_url, mode=mode)  # type: ignore[arg-type]
    app = web.Application()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # aiohttp warns for what is not a coroutine function
        app.router.add_post(PATH, handler)
    url = await serve(app) + PATH
    status, twiml, resp = await post_signed(http, url, CALL, follow=True)
    assert status == 200 and resp.content_type == "text/xml"
    assert [r.status for r in resp.history] == ([307] if mode == "redirect" else [])
    session = emulator.session(session_id_from(twiml))
    assert session is not None and session["call_sid"] == CALL["CallSid"]
    assert emulator.stats.inbound_calls == 1


def test_without_the_mark_aiohttp_would_warn() -> None:
    """The control for the test above: a plain callable object is not enough."""

    class Plain:
        async def __call__(self, request: web.Request) -> web.Response:
            return web.Response()

    with pytest.warns(DeprecationWarning, match="Bare functions"):
        web.Application().router.add_post(PATH, Plain())


async def test_handle_and_mount_still_work(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    handler = twilio_inbound_handler(TOKEN, forward_to=emulator.base_url, path="/hook")
    by_method = web.Application()
    by_method.router.add_post(PATH, handler.handle)
    url = await serve(by_method) + PATH
    assert (await post_signed(http, url, CALL))[0] == 307
    mounted = await serve(handler.mount(web.Application()))  # options.path
    assert (await post_signed(http, mounted + "/hook", call("3")))[0] == 307
    elsewhere = await serve(handler.mount(web.Application(), "/other"))
    assert (await post_signed(http, elsewhere + "/other", call("4")))[0] == 307


# -- redirect mode ------------------------------------------------------------------


async def test_redirect_mode_307_to_incoming_call(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    base = await serve(twilio_inbound_app(TOKEN, forward_to=emulator.base_url))
    url = f"{base}{PATH}?tenant=acme&x=a%20b"
    status, _, resp = await post_signed(http, url, CALL)
    assert status == 307
    assert resp.headers["Location"] == f"{emulator.base_url}{INCOMING}?tenant=acme&x=a%20b"
    assert emulator.stats.requests["incoming_call"] == 0  # Twilio makes that request

    # What Twilio does with it: re-POST the same form to Location (307 keeps both).
    status, twiml, resp = await post_signed(http, url, CALL, follow=True)
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
    assert "rejected Twilio webhook" in caplog.text
    assert TOKEN not in caplog.text and (not signature or signature not in caplog.text)


# -- 3. forward_to: a base URL or the incoming-call URL --------------------------------


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
@pytest.mark.parametrize("suffix", ["", "/", INCOMING, INCOMING + "/"])
async def test_forward_to_base_or_incoming_call_url(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator, mode: str, suffix: str
) -> None:
    handler = twilio_inbound_handler(
        TOKEN,
        forward_to=emulator.base_url + suffix,
        mode=mode,  # type: ignore[arg-type]
    )
    assert handler.target == emulator.base_url + INCOMING  # the path exactly once
    app = web.Application()
    app.router.add_post(PATH, handler)
    url = await serve(app) + PATH
    status, _, resp = await post_signed(http, url, CALL)
    if mode == "redirect":
        assert status == 307 and resp.headers["Location"] == emulator.base_url + INCOMING
        status, _, resp = await post_signed(http, url, CALL, follow=True)
    assert status == 200
    # a doubled path would have been a 404 from the emulator, and no session
    assert emulator.stats.requests["incoming_call"] == 1
    assert emulator.stats.inbound_calls == 1


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
async def test_forward_to_with_another_path_is_used_as_given(
    serve: Serve, http: aiohttp.ClientSession, upstream: Upstream, mode: str
) -> None:
    handler = twilio_inbound_handler(
        TOKEN,
        forward_to=upstream.base_url + "/hooks/stateset/",
        mode=mode,  # type: ignore[arg-type]
    )
    assert handler.target == upstream.base_url + "/hooks/stateset"
    app = web.Application()
    app.router.add_post(PATH, handler)
    url = await serve(app) + PATH + "?x=1"
    status, _, resp = await post_signed(http, url, CALL, follow=True)
    assert status == 200
    assert [seen.path for seen in upstream.seen] == ["/hooks/stateset"]
    if mode == "redirect":
        assert str(resp.history[0].headers["Location"]) == upstream.base_url + "/hooks/stateset?x=1"


# -- behind a proxy / load balancer ---------------------------------------------------


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
    status, _, resp = await post(http, local, CALL, sign(signed_url, CALL))
    assert status == 307
    # the query carried to StateSet is the one that was signed
    assert resp.headers["Location"] == f"{emulator.base_url}{INCOMING}?{urlsplit(signed_url).query}"
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


async def test_no_open_redirect(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    """Whatever a signed request carries, Location points at the target and nowhere else."""
    app = twilio_inbound_app(TOKEN, forward_to=emulator.base_url, trust_forwarded=True)
    base = await serve(app)
    evil = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    for query in ("next=https://evil.example/", "@evil.example", "x=%0d%0aLocation:%20//evil"):
        signed_url = f"https://evil.example{PATH}?{query}"
        status, _, resp = await post(
            http, f"{base}{PATH}?{query}", CALL, sign(signed_url, CALL), headers=evil
        )
        assert status == 307
        location = resp.headers["Location"]
        assert location == f"{emulator.base_url}{INCOMING}?{query}"
        assert urlsplit(location).netloc == urlsplit(emulator.base_url).netloc


# -- replay, redirect mode ---------------------------------------------------------------


async def test_replay_cache_rejects_a_replayed_request(
    serve: Serve, http: aiohttp.ClientSession, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    app = twilio_inbound_app(TOKEN, forward_to=emulator.base_url, replay_cache=ReplayCache(60))
    url = f"{await serve(app)}{PATH}"
    assert (await post_signed(http, url, CALL))[0] == 307
    with caplog.at_level(logging.WARNING, logger="voice_async.webhooks"):
        assert (await post_signed(http, url, CALL))[:2] == (401, "Unauthorized")
    assert "replayed" in caplog.text
    assert (await post_signed(http, url, call("3")))[0] == 307


# -- validate_request / parse in your own handler -------------------------------------------


async def test_validate_request_and_parse_in_a_custom_handler(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    cache = ReplayCache()
    parsed: list[TwilioVoiceWebhook] = []

    async def handler(request: web.Request) -> web.Response:
        ok = await validate_request(request, TOKEN, replay_cache=cache)
        if ok and request.content_type.endswith("urlencoded"):
            parsed.append(parse_twilio_voice_webhook(await request.post()))  # body still readable
        return web.json_response({"ok": ok})

    app = web.Application()
    app.router.add_post("/hook", handler)
    base = await serve(app)
    url = f"{base}/hook?x=1"
    async with http.post(url, data=CALL, headers={SIGNATURE_HEADER: sign(url, CALL)}) as resp:
        assert await resp.json() == {"ok": True}
    assert [(w.call_sid, w.from_, w.extra["CallerCity"]) for w in parsed] == [
        (CALL["CallSid"], CALL["From"], CALL["CallerCity"])
    ]
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
    assert len(parsed) == 1


# -- configuration ------------------------------------------------------------------------


def test_handler_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("STATESET_VOICE_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN"):
        twilio_inbound_handler()
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    handler = twilio_inbound_handler()
    assert isinstance(handler, TwilioInboundHandler)
    assert handler.target == "https://voice.stateset.app/api/v1/incoming-call"
    assert TOKEN not in repr(handler) and TOKEN not in repr(handler.options)
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", "https://voice.example.com/prefix")
    # the environment holds a *base* URL, as for the client
    assert twilio_inbound_handler().target == "https://voice.example.com/prefix" + INCOMING
    bad: list[dict[str, object]] = [
        {"forward_to": "http://voice.example.com"},  # Twilio's data in clear
        {"forward_to": "https://voice.example.com/x?tenant=1"},
        {"forward_to": "voice.example.com"},
        {"forward_to": 42},
        {"mode": "bounce"},
        {"public_url": "hooks.example.com/voice"},
        {"public_url": "ftp://hooks.example.com/voice"},
        {"forward_timeout": 0},
        {"forward_timeout": True},
        {"path": "twilio"},
        {"client": "not a client"},
        {"replay_cache": {}},
    ]
    for kwargs in bad:
        with pytest.raises(ConfigurationError) as info:
            twilio_inbound_handler(**kwargs)  # type: ignore[arg-type]
        assert TOKEN not in str(info.value)
    with pytest.raises(TypeError):
        twilio_inbound_handler(TOKEN, "https://voice.example.com")  # type: ignore[call-arg]
    insecure = twilio_inbound_handler(
        forward_to="http://voice.example.com", allow_insecure_http=True
    )
    assert insecure.target == "http://voice.example.com" + INCOMING
