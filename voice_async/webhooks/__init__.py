"""Receive Twilio's voice webhook, check ``X-Twilio-Signature``, hand the call to StateSet.

Import it explicitly (``from voice_async.webhooks import ...``): it is the only
part of the SDK that needs ``twilio``, and ``import voice_async`` does not load it.

The signature is computed by twilio's own ``RequestValidator``; we never
re-implement the HMAC.  Three things around it are ours, because the obvious
way is unsafe:

* the comparison is :func:`hmac.compare_digest` (twilio's is a hand-written loop);
* a JSON webhook (``bodySHA256`` in the query) is checked against its raw
  body, and fails without it (twilio skips the body hash when given a dict);
* behind a proxy the URL the app sees is not the one Twilio signed, so
  :func:`public_request_url` rebuilds the public one.

Twilio signatures carry no timestamp, so a captured request can be replayed;
:class:`ReplayCache` is the optional defence.

Layout: ``_signature`` (the check, no I/O), ``_replay``, ``_models`` (the typed
view), ``_request`` (reading an aiohttp request), ``_options`` (every option,
declared once), ``_forward`` (proxy mode's connection), ``_handler``.
"""

from ._handler import TwilioInboundHandler, twilio_inbound_app, twilio_inbound_handler
from ._models import TwilioVoiceWebhook, parse_twilio_voice_webhook
from ._options import (
    DEFAULT_FORWARD_TIMEOUT,
    DEFAULT_PATH,
    INCOMING_CALL_PATH,
    Mode,
    TwilioInboundOptions,
)
from ._replay import ReplayCache
from ._request import public_request_url, validate_request
from ._signature import ENV_AUTH_TOKEN, SIGNATURE_HEADER, Params, verify_twilio_signature

__all__ = [
    "DEFAULT_FORWARD_TIMEOUT",
    "DEFAULT_PATH",
    "ENV_AUTH_TOKEN",
    "INCOMING_CALL_PATH",
    "SIGNATURE_HEADER",
    "Mode",
    "Params",
    "ReplayCache",
    "TwilioInboundHandler",
    "TwilioInboundOptions",
    "TwilioVoiceWebhook",
    "parse_twilio_voice_webhook",
    "public_request_url",
    "twilio_inbound_app",
    "twilio_inbound_handler",
    "validate_request",
    "verify_twilio_signature",
]
