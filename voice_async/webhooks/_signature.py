"""Twilio's ``X-Twilio-Signature``: the check itself, with no I/O.

The HMAC is computed by twilio's own ``RequestValidator`` (we never
re-implement it); what this module replaces is how that class *decides*:

* its final comparison is a hand-written loop -- we use :func:`hmac.compare_digest`;
* for a JSON webhook (``bodySHA256`` in the query) it skips the body hash when
  given a dict -- we fail closed unless the raw body is given.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import (  # type: ignore[import-untyped]
    RequestValidator,
    add_port,
    remove_port,
)

from .._errors import ConfigurationError

SIGNATURE_HEADER = "X-Twilio-Signature"
ENV_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
BODY_HASH_PARAM = "bodySHA256"
MASK = "****"

#: Form fields: a mapping whose values are strings, or lists of strings for
#: repeated fields.  A ``MultiDict`` (what aiohttp's ``request.post()`` gives)
#: also works and keeps repeated fields.
Params = Mapping[str, str] | Mapping[str, Sequence[str]] | MultiDictProxy[str] | MultiDict[str]


class AuthTokens:
    """One or more Twilio auth tokens (a list lets you rotate without downtime).

    Holds the tokens so nothing else has to: ``repr`` and ``str`` say how many
    there are, never what they are, and :meth:`scrub` masks them in any text
    the SDK is about to log.
    """

    __slots__ = ("_tokens", "_validators")

    def __init__(self, tokens: str | Sequence[str]) -> None:
        values = (tokens,) if isinstance(tokens, str) else tuple(tokens)
        if not values or not all(isinstance(t, str) and t for t in values):
            raise ConfigurationError("auth_token must be a non-empty string (or a list of them)")
        self._tokens = values
        self._validators = tuple(RequestValidator(t) for t in values)

    @classmethod
    def resolve(cls, value: AuthTokens | str | Sequence[str] | None) -> AuthTokens:
        """``value``, or ``TWILIO_AUTH_TOKEN`` when it is None."""
        if isinstance(value, AuthTokens):
            return value
        if value is None:
            value = os.environ.get(ENV_AUTH_TOKEN, "")
            if not value:
                raise ConfigurationError(
                    f"no Twilio auth token: pass auth_token or set {ENV_AUTH_TOKEN}"
                )
        return cls(value)

    def __repr__(self) -> str:
        return f"AuthTokens(<{len(self._tokens)} hidden>)"

    __str__ = __repr__

    def scrub(self, text: str) -> str:
        """``text`` with every token replaced by ``****`` (for log lines and errors)."""
        for token in self._tokens:
            text = text.replace(token, MASK)
        return text

    def reveal(self) -> tuple[str, ...]:
        """The tokens in clear, for the one place that must mask them elsewhere."""
        return self._tokens

    def verify(self, url: str, params: Params | str | None, signature: str | None) -> bool:
        """See :func:`verify_twilio_signature`; never raises on hostile input."""
        if not signature:
            return False
        try:
            return self._verify(url, params, signature)
        except ValueError:  # a URL twilio cannot parse (e.g. a bad port) never matches
            return False

    def _verify(self, url: str, params: Params | str | None, signature: str) -> bool:
        body_hash = parse_qs(urlsplit(url).query).get(BODY_HASH_PARAM)
        if body_hash:
            # A JSON webhook: the signature covers the URL (which carries the
            # body hash) and the raw body must match that hash.  Without the
            # raw body it cannot be checked, so we refuse rather than skip.
            if not isinstance(params, str):
                return False
            body_ok = _equal(str(self._validators[0].compute_hash(params)), body_hash[0])
            return self._matches(url, MultiDict(), signature) and body_ok
        if isinstance(params, str):
            if params:  # a raw body nobody signed
                return False
            params = None
        return self._matches(url, as_multidict(params), signature)

    def _matches(self, url: str, params: MultiDict[str], signature: str) -> bool:
        """Try every token and the URL with and without its default port.

        Twilio is inconsistent about signing ``:443`` (twilio-python #392), so
        like ``RequestValidator.validate`` both spellings are accepted.  Every
        candidate is computed (no early exit) so the time taken does not tell
        which one matched.
        """
        parsed = urlsplit(url)
        candidates = {remove_port(parsed), add_port(parsed)}
        results = [
            _equal(str(v.compute_signature(candidate, params)), signature)
            for v in self._validators
            for candidate in candidates
        ]
        return any(results)


def canonical_url(url: str) -> str:
    """The one spelling of ``url`` shared by every URL a signature is accepted for.

    A signature made for ``https://host/x`` also passes at ``https://host:443/x``
    (see :meth:`AuthTokens._matches`), so anything keyed on "what was signed"
    must not tell the two apart.  Callers pass a URL that already verified.
    """
    return str(remove_port(urlsplit(url)))


def as_multidict(params: Params | None) -> MultiDict[str]:
    """Normalise form fields so twilio's ``getall`` sees every repeated value."""
    out: MultiDict[str] = MultiDict()
    if params is None:
        return out
    if isinstance(params, (MultiDict, MultiDictProxy)):
        out.extend(params.items())
        return out
    for key, value in params.items():
        if isinstance(value, str):
            out.add(key, value)
        else:
            out.extend((key, v) for v in value)
    return out


def _equal(a: str, b: str) -> bool:
    """Constant-time comparison (``str`` compare_digest rejects non-ASCII, bytes don't)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def verify_twilio_signature(
    auth_token: str | Sequence[str],
    url: str,
    params: Params | str | None,
    signature: str | None,
) -> bool:
    """True if ``signature`` is Twilio's ``X-Twilio-Signature`` for this request.

    ``url`` is the full public URL Twilio requested, query string included and
    verbatim.  ``params`` are the POSTed form fields; for a JSON webhook
    (``bodySHA256`` in the URL) pass the *raw body string* instead -- a dict
    then fails, because the body could not be checked.  ``auth_token`` may be
    a list (old and new token while rotating).  A missing signature is False.
    """
    return AuthTokens(auth_token).verify(url, params, signature)
