"""parse_twilio_voice_webhook: a typed, frozen view instead of a raw form."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from multidict import MultiDict

from voice_async import InvalidRequestError
from voice_async.webhooks import TwilioVoiceWebhook, parse_twilio_voice_webhook

from ._support import CALL


def test_every_field_typed_and_the_rest_in_extra() -> None:
    form = {**CALL, "CallerName": "ALICE", "ApiVersion": "2010-04-01"}
    webhook = parse_twilio_voice_webhook(form)
    assert webhook == TwilioVoiceWebhook(
        call_sid=CALL["CallSid"],
        account_sid=CALL["AccountSid"],
        from_="+15555550100",
        to="+15555550199",
        call_status="ringing",
        direction="inbound",
        caller_name="ALICE",
        extra={"CallerCity": "São Paulo & Zürich", "ApiVersion": "2010-04-01"},
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        webhook.call_sid = "CA0"  # type: ignore[misc]
    assert hash(webhook) == hash(attrs.evolve(webhook, extra={}))  # extra is not hashed


def test_optional_and_blank_fields() -> None:
    form = {k: v for k, v in CALL.items() if k != "CallerName"}
    assert parse_twilio_voice_webhook(form).caller_name is None
    assert parse_twilio_voice_webhook(CALL).caller_name == ""  # sent blank, kept blank
    assert parse_twilio_voice_webhook({**CALL, "From": ""}).from_ == ""


@pytest.mark.parametrize(
    "form",
    [
        MultiDict(CALL),
        MultiDict(CALL).copy(),
        {k: [v] for k, v in CALL.items()},  # the list form verify_twilio_signature accepts
    ],
)
def test_accepts_the_mappings_aiohttp_and_users_have(form: Any) -> None:
    assert parse_twilio_voice_webhook(form).call_sid == CALL["CallSid"]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({k: v for k, v in CALL.items() if k != "CallSid"}, "CallSid"),
        ({**CALL, "CallSid": ""}, "CallSid"),
        ({**CALL, "AccountSid": ""}, "AccountSid"),
        ({k: v for k, v in CALL.items() if k != "Direction"}, "Direction"),
        (MultiDict([*CALL.items(), ("CallSid", "CA" + "9" * 32)]), "CallSid"),
        ({**CALL, "CallerCity": ["Paris", "Lyon"]}, "CallerCity"),
        ({**CALL, "Recording": b"bytes"}, "Recording"),
        ({**CALL, "Recording": object()}, "Recording"),
        ([("CallSid", "CA1")], "params"),
        ({1: "x"}, "params"),
    ],
)
def test_bad_input_is_a_typed_error_naming_the_field(form: Any, field: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        parse_twilio_voice_webhook(form)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
