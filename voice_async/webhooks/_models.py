"""A typed view of Twilio's voice webhook, so application code never indexes a raw form."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .._errors import InvalidRequestError


@attrs.frozen
class TwilioVoiceWebhook:
    """The fields of a Twilio voice webhook (incoming call or call status).

    Built by :func:`parse_twilio_voice_webhook`.  Values are kept exactly as
    Twilio sent them (``call_status`` is e.g. ``"ringing"``, ``direction``
    ``"inbound"``); every other field, such as ``CallerCity`` or
    ``ApiVersion``, is in ``extra`` under its wire name.
    """

    call_sid: str
    account_sid: str
    from_: str
    to: str
    call_status: str
    direction: str
    caller_name: str | None = None
    extra: Mapping[str, str] = attrs.field(factory=dict, hash=False, repr=False)


def parse_twilio_voice_webhook(params: Mapping[str, Any]) -> TwilioVoiceWebhook:
    """The typed view of a voice webhook's form fields.

    Pass what you verified: aiohttp's ``await request.post()``, a
    ``MultiDict`` or a plain mapping.  Check the signature first (see
    :func:`validate_request`): this only reads the fields, it proves nothing
    about who sent them.

    Raises :class:`~voice_async.InvalidRequestError` (a ``ValueError``, with
    ``.field`` set to the wire name) when a field every voice webhook carries
    is missing, when ``CallSid``/``AccountSid`` is blank, when a field is
    repeated (a voice webhook never repeats one, so a repeat is ambiguous), or
    when a value is not a string (a file upload).
    """
    fields: dict[str, str] = {}
    for key, value in _pairs(params):
        if key in fields:
            raise InvalidRequestError(key, "repeated in the webhook; a voice webhook sends it once")
        fields[key] = value
    # Popped in order, so what is left is ``extra``.
    return TwilioVoiceWebhook(
        call_sid=_take(fields, "CallSid", blank_ok=False),
        account_sid=_take(fields, "AccountSid", blank_ok=False),
        from_=_take(fields, "From"),
        to=_take(fields, "To"),
        call_status=_take(fields, "CallStatus"),
        direction=_take(fields, "Direction"),
        caller_name=fields.pop("CallerName", None),  # only with caller-ID lookup on
        extra=fields,
    )


def _take(fields: dict[str, str], wire: str, *, blank_ok: bool = True) -> str:
    """A field every voice webhook carries; CallSid/AccountSid identify it, so not blank."""
    value = fields.pop(wire, None)
    if value is None or (not blank_ok and not value):
        raise InvalidRequestError(wire, "missing from the webhook (is it a voice webhook?)")
    return value


def _pairs(params: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (name, value), repeats included (a MultiDict's ``items()`` has them)."""
    if not isinstance(params, Mapping):
        raise InvalidRequestError("params", "must be a mapping of form fields")
    for key, value in params.items():
        if not isinstance(key, str):
            raise InvalidRequestError("params", "field names must be strings")
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            yield from ((key, v) for v in value)
        else:
            raise InvalidRequestError(key, "must be a string")
