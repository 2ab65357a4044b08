"""Shared constants and helpers for the webhook tests (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

import aiohttp
import twilio.request_validator as twilio_rv  # type: ignore[import-untyped]
from yarl import URL

from voice_async.webhooks import SIGNATURE_HEADER

TOKEN = "test-auth-token-0123456789abcdef"
PATH = "/twilio/voice"
CALL = {
    "AccountSid": "AC" + "1" * 32,
    "CallSid": "CA" + "2" * 32,
    "CallStatus": "ringing",
    "Direction": "inbound",
    "From": "+15555550100",
    "To": "+15555550199",
    "CallerName": "",  # Twilio sends blank fields; they are signed too
    "CallerCity": "São Paulo & Zürich",
}


def sign(url: str, params: Any = None, token: str = TOKEN) -> str:
    """What Twilio puts in X-Twilio-Signature, computed by the twilio library."""
    return str(twilio_rv.RequestValidator(token).compute_signature(url, params or {}))


def call(sid_digit: str) -> dict[str, str]:
    """CALL with another CallSid: another inbound call."""
    return {**CALL, "CallSid": "CA" + sid_digit * 32}


async def post(
    http: aiohttp.ClientSession,
    url: str,
    form: dict[str, str],
    signature: str | None,
    *,
    follow: bool = False,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, aiohttp.ClientResponse]:
    """POST a form as Twilio does; ``follow`` re-POSTs to a 307's Location as Twilio does."""
    all_headers = dict(headers or {})
    if signature is not None:
        all_headers[SIGNATURE_HEADER] = signature
    # encoded=True: send the URL byte for byte as signed, as Twilio does
    target = URL(url, encoded=True)
    async with http.post(target, data=form, headers=all_headers, allow_redirects=follow) as resp:
        return resp.status, await resp.text(), resp


async def post_signed(
    http: aiohttp.ClientSession, url: str, form: dict[str, str], *, follow: bool = False
) -> tuple[int, str, aiohttp.ClientResponse]:
    return await post(http, url, form, sign(url, form), follow=follow)


def session_id_from(twiml: str) -> str:
    assert twiml.startswith("<?xml") and "<Stream url=" in twiml, twiml
    return twiml.split("/media-stream/")[1].split('"')[0]
