"""POST /api/v1/incoming-call: Twilio's form webhook -> TwiML and an inbound session."""

from __future__ import annotations

import re

import aiohttp
import pytest

from voice_async.testing import Emulator
from voice_async.testing._app import _stream_url

from .emu_helpers import auth, read_events, request

FORM = {
    "CallSid": "CA" + "a" * 32,
    "From": "+15555550999",
    "To": "+15555551234",
    "AccountSid": "AC" + "b" * 32,
    "CallStatus": "ringing",
}
TWIML = re.compile(
    r'<\?xml version="1\.0" encoding="UTF-8"\?><Response><Connect>'
    r'<Stream url="ws://127\.0\.0\.1:(\d+)/api/v1/media-stream/(vs_[0-9A-Z]{26})"/>'
    r"</Connect></Response>"
)


async def post_form(
    http: aiohttp.ClientSession, emu: Emulator, form: dict[str, str]
) -> tuple[int, str, str]:
    reply = await request(http, "POST", f"{emu.base_url}/api/v1/incoming-call", data=form)
    return reply.status, reply.headers["Content-Type"], reply.text


async def test_incoming_call_answers_twiml_and_creates_an_inbound_session(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    status, content_type, body = await post_form(http, emu, FORM)
    assert (status, content_type) == (200, "text/xml")
    match = TWIML.fullmatch(body)
    assert match is not None, body
    assert int(match.group(1)) == emu.port
    session_id = match.group(2)
    reply = await request(
        http, "GET", f"{emu.base_url}/api/v1/voice-sessions/{session_id}", headers=auth(emu)
    )
    session = reply.json()
    assert (session["direction"], session["to"], session["from"]) == (
        "inbound",
        FORM["To"],
        FORM["From"],
    )
    assert (session["call_sid"], session["agent_key"]) == (FORM["CallSid"], "inbound_default")
    assert session["metadata"] == {"account_sid": FORM["AccountSid"]}
    assert emu.stats.inbound_calls == 1
    assert emu.stats.calls_placed == 0
    frames, code = await read_events(http, emu, session_id)
    assert code == 1000
    assert frames[0]["data"]["direction"] == "inbound"
    assert frames[-1]["type"] == "session.ended"


async def test_twilio_retries_get_the_same_session(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    first = await post_form(http, emu, FORM)
    second = await post_form(http, emu, FORM)
    assert first == second
    assert emu.stats.inbound_calls == 1
    other = await post_form(http, emu, {**FORM, "CallSid": "CA" + "c" * 32})
    assert other[2] != first[2]
    assert emu.stats.inbound_calls == 2


@pytest.mark.parametrize("missing", ["CallSid", "From", "To"])
async def test_missing_fields_are_400(
    emu: Emulator, http: aiohttp.ClientSession, missing: str
) -> None:
    form = {k: v for k, v in FORM.items() if k != missing}
    reply = await request(http, "POST", f"{emu.base_url}/api/v1/incoming-call", data=form)
    assert reply.status == 400
    assert reply.error()["param"] == missing
    assert emu.stats.inbound_calls == 0


async def test_a_json_body_is_not_a_twilio_form(emu: Emulator, http: aiohttp.ClientSession) -> None:
    reply = await request(http, "POST", f"{emu.base_url}/api/v1/incoming-call", json=FORM)
    assert reply.status == 400
    assert reply.error()["param"] == "CallSid"


def test_stream_url_follows_the_base_url_scheme() -> None:
    assert _stream_url("https://voice.example", "vs_1") == (
        "wss://voice.example/api/v1/media-stream/vs_1"
    )
    assert _stream_url("http://127.0.0.1:9", "vs_1") == (
        "ws://127.0.0.1:9/api/v1/media-stream/vs_1"
    )
