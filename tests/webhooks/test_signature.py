"""The signature check (twilio's HMAC, our decisions) and the replay cache, without I/O."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from typing import Any

import pytest
import twilio.request_validator as twilio_rv  # type: ignore[import-untyped]
from multidict import MultiDict

from voice_async import ConfigurationError
from voice_async.webhooks import ReplayCache, TwilioInboundOptions, verify_twilio_signature

from ._support import CALL, TOKEN, sign

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


def test_shifted_field_boundaries_keep_the_signature() -> None:
    """Why the replay cache cannot key on CallSid: this re-spelling still verifies."""
    url = "https://hooks.example.com/twilio/voice"
    original = {"CallSid": "CA1", "CallStatus": "ringing", "From": "+15555550100"}
    shifted = {"CallSid": "CA1CallStatusringing", "From": "+15555550100"}
    signature = sign(url, original)
    assert verify_twilio_signature(TOKEN, url, original, signature)
    assert verify_twilio_signature(TOKEN, url, shifted, signature)


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
    # twilio skips the body hash when given a dict; we refuse instead
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


def test_the_auth_token_is_never_shown() -> None:
    options = TwilioInboundOptions([TOKEN, "second-token-abcdef123456"])
    shown = repr(options) + str(options) + repr(options.auth_token) + str(options.auth_token)
    assert "2 hidden" in shown
    for secret in (TOKEN, "second-token-abcdef123456", TOKEN[-4:], TOKEN[:8]):
        assert secret not in shown
    text = f"upstream said {TOKEN} and second-token-abcdef123456"
    assert options.auth_token.scrub(text) == "upstream said **** and ****"


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


# -- ReplayCache -----------------------------------------------------------------

URL = "https://hooks.example.com/twilio/voice"


def test_replay_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    cache = ReplayCache(ttl=10, max_entries=3, clock=lambda: now[0])
    assert cache.claim(URL, "s1")
    assert not cache.claim(URL, "s1")
    assert cache.claim(URL, "s2")  # another request (e.g. a status change)
    now[0] = 10.0
    assert cache.claim(URL, "s1")  # expired
    for i in range(10):
        cache.claim(URL, f"x{i}")
    assert len(cache) == 3
    cache.release(URL, "x9")
    assert cache.claim(URL, "x9")
    assert "size=3" in repr(cache)
    with pytest.raises(ConfigurationError):
        ReplayCache(ttl=0)
    with pytest.raises(ConfigurationError):
        ReplayCache(max_entries=0)


def test_replay_cache_keys_on_what_the_signature_covers() -> None:
    cache = ReplayCache()
    assert cache.claim(URL, "sig")
    # every spelling the same signature verifies at is the same request
    assert not cache.claim("https://hooks.example.com:443/twilio/voice", "sig")
    assert not cache.claim(URL, "sig")
    # another URL or another signature is another request
    assert cache.claim("https://hooks.example.com/twilio/status", "sig")
    assert cache.claim(URL, "other")
    # a URL that cannot have verified does not crash the cache
    assert cache.claim("https://hooks.example.com:99999/x", "sig")
