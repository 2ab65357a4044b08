"""Receive Twilio's voice webhook, check ``X-Twilio-Signature``, hand the call to StateSet.

Import it explicitly (``from voice_async.webhooks import ...``): it is the only
module that needs ``twilio``, and ``import voice_async`` does not load it.

The signature is computed by twilio's own ``RequestValidator`` (we never
re-implement the HMAC), but three of that class's behaviours are unsafe and
are replaced here (see PITFALLS.md):

* its final comparison is a hand-written loop -- we compare with
  :func:`hmac.compare_digest`;
* with a JSON body (``bodySHA256`` in the query) it skips the body hash when
  given a dict -- we fail closed unless the raw body is given;
* it only sees the URL you give it -- behind a proxy that is the wrong URL, so
  :func:`validate_request` rebuilds the *public* URL Twilio signed.

Twilio signatures carry no timestamp, so a captured request can be replayed;
:class:`ReplayCache` is the optional defence.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Literal
from urllib.parse import parse_qs, parse_qsl, urlsplit

import attrs
from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import (  # type: ignore[import-untyped]
    RequestValidator,
    add_port,
    remove_port,
)
from yarl import URL

from ._client import AsyncVoiceClient
from ._config import DEFAULT_BASE_URL, ENV_BASE_URL, check_base_url
from ._errors import ConfigurationError, VoiceError

__all__ = [
    "DEFAULT_PATH",
    "ENV_AUTH_TOKEN",
    "INCOMING_CALL_PATH",
    "SIGNATURE_HEADER",
    "ReplayCache",
    "TwilioInboundHandler",
    "public_request_url",
    "twilio_inbound_app",
    "twilio_inbound_handler",
    "validate_request",
    "verify_twilio_signature",
]

logger = logging.getLogger("voice_async.webhooks")

SIGNATURE_HEADER = "X-Twilio-Signature"
INCOMING_CALL_PATH = "/api/v1/incoming-call"
ENV_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
BODY_HASH_PARAM = "bodySHA256"
DEFAULT_PATH = "/twilio/voice"
#: Twilio gives up on a webhook after 15 s; answering 502 before that is clearer.
DEFAULT_FORWARD_TIMEOUT = 10.0

#: Form fields: a mapping whose values are strings, or lists of strings for
#: repeated fields.  A ``MultiDict`` (what aiohttp's ``request.post()`` gives)
#: also works and keeps repeated fields.
Params = Mapping[str, str] | Mapping[str, Sequence[str]] | MultiDictProxy[str] | MultiDict[str]
Mode = Literal["redirect", "proxy"]


# -- the signature ---------------------------------------------------------


def _tokens(auth_token: str | Sequence[str]) -> tuple[str, ...]:
    """One or more tokens: a list lets you rotate the auth token without downtime."""
    tokens = (auth_token,) if isinstance(auth_token, str) else tuple(auth_token)
    if not tokens or not all(isinstance(t, str) and t for t in tokens):
        raise ConfigurationError("auth_token must be a non-empty string (or a list of them)")
    return tokens


def _multidict(params: Params | None) -> MultiDict[str]:
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


def _signatures_match(
    validators: Sequence[RequestValidator], url: str, params: MultiDict[str], signature: str
) -> bool:
    """Try every token and the URL with and without its default port.

    Twilio is inconsistent about signing ``:443`` (twilio-python #392), so like
    ``RequestValidator.validate`` both spellings are accepted.  All candidates
    are computed (no early exit) so timing does not depend on which matched.
    """
    parsed = urlsplit(url)
    candidates = {remove_port(parsed), add_port(parsed)}
    results = [
        _equal(str(v.compute_signature(candidate, params)), signature)
        for v in validators
        for candidate in candidates
    ]
    return any(results)


def _check(
    validators: Sequence[RequestValidator],
    url: str,
    params: Params | str | None,
    signature: str | None,
) -> bool:
    if not signature:
        return False
    try:
        return _check_url(validators, url, params, signature)
    except ValueError:  # a URL twilio cannot parse (e.g. a bad port) never matches
        return False


def _check_url(
    validators: Sequence[RequestValidator],
    url: str,
    params: Params | str | None,
    signature: str,
) -> bool:
    body_hash = parse_qs(urlsplit(url).query).get(BODY_HASH_PARAM)
    if body_hash:
        # A JSON webhook: the signature covers the URL (which carries the body
        # hash) and the raw body must match that hash.  Without the raw body
        # we cannot check it, so we refuse rather than skip (unlike twilio).
        if not isinstance(params, str):
            return False
        body_ok = _equal(str(validators[0].compute_hash(params)), body_hash[0])
        return _signatures_match(validators, url, MultiDict(), signature) and body_ok
    if isinstance(params, str):
        if params:  # a raw body nobody signed
            return False
        params = None
    return _signatures_match(validators, url, _multidict(params), signature)


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
    return _check(_validators(_tokens(auth_token)), url, params, signature)


def _validators(tokens: Sequence[str]) -> tuple[RequestValidator, ...]:
    return tuple(RequestValidator(t) for t in tokens)


# -- replay protection -----------------------------------------------------


class ReplayCache:
    """Remembers recently accepted ``(CallSid, signature)`` pairs for ``ttl`` seconds.

    A valid signed request seen again within ``ttl`` is rejected.  Memory is
    bounded: at most ``max_entries`` are kept, the oldest dropped first.  It
    is per process: with several workers, a replay may still reach another one.
    """

    def __init__(
        self,
        ttl: float = 300.0,
        max_entries: int = 10_000,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or max_entries < 1:
            raise ConfigurationError("ReplayCache needs ttl > 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def claim(self, call_sid: str, signature: str) -> bool:
        """Record the pair; False if it was already seen within ``ttl``."""
        now = self._clock()
        self._expire(now)
        key = (call_sid, signature)
        if key in self._seen:
            return False
        self._seen[key] = now + self.ttl
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True

    def release(self, call_sid: str, signature: str) -> None:
        """Forget a pair, so Twilio's retry of a request we failed is accepted."""
        self._seen.pop((call_sid, signature), None)

    def _expire(self, now: float) -> None:
        # Insertion order is expiry order (constant ttl), so stop at the first live one.
        while self._seen:
            key, expires = next(iter(self._seen.items()))
            if expires > now:
                return
            del self._seen[key]


# -- reading an aiohttp request --------------------------------------------


def _first(header: str | None) -> str | None:
    """First hop of a comma-separated forwarded header, or None if blank."""
    value = (header or "").split(",")[0].strip()
    return value or None


def public_request_url(
    request: web.Request, public_url: str | None = None, *, trust_forwarded: bool = False
) -> str:
    """The URL Twilio called, as it signed it.

    * ``public_url`` with a path: that path replaces the one the app sees (a
      proxy may strip a prefix); with only an origin, the request's path is
      kept.  Its query string, if any, is used as is; otherwise the request's.
    * otherwise scheme and host come from the request -- or from
      ``X-Forwarded-Proto``/``X-Forwarded-Host`` when ``trust_forwarded`` is
      set.  Only opt in if your proxy overwrites those headers: a client can
      send them too.

    Path and query stay exactly as received (not re-encoded), as Twilio signed.
    """
    raw_path, sep, raw_query = request.raw_path.partition("?")
    if public_url is not None:
        pub = urlsplit(public_url)
        path = pub.path if pub.path not in ("", "/") else raw_path
        query = pub.query if pub.query else raw_query
        return f"{pub.scheme}://{pub.netloc}{path}" + (f"?{query}" if query else "")
    scheme, host = request.scheme, request.host
    if trust_forwarded:
        scheme = _first(request.headers.get("X-Forwarded-Proto")) or scheme
        host = _first(request.headers.get("X-Forwarded-Host")) or host
    return f"{scheme}://{host}{raw_path}" + (f"?{raw_query}" if sep else "")


@attrs.frozen
class _Signed:
    """What the handler needs after verification: the verdict and the fields."""

    ok: bool
    url: str
    params: MultiDict[str]
    signature: str


async def _read(
    request: web.Request,
    validators: Sequence[RequestValidator],
    public_url: str | None,
    trust_forwarded: bool,
) -> _Signed:
    """Read the body once, pick what was signed, verify."""
    url = public_request_url(request, public_url, trust_forwarded=trust_forwarded)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    body = await request.read()
    params: MultiDict[str] = MultiDict()
    signed: MultiDict[str] | str
    try:
        text = body.decode("utf-8")
        if request.content_type == FORM_CONTENT_TYPE:
            params.extend(parse_qsl(text, keep_blank_values=True, errors="strict"))
            signed = params
        else:
            signed = text  # JSON: checked against bodySHA256; anything else fails
    except UnicodeDecodeError:
        return _Signed(False, url, params, signature)
    return _Signed(_check(validators, url, signed, signature), url, params, signature)


async def validate_request(
    request: web.Request,
    auth_token: str | Sequence[str],
    public_url: str | None = None,
    *,
    trust_forwarded: bool = False,
    replay_cache: ReplayCache | None = None,
) -> bool:
    """True if this aiohttp request carries a valid Twilio signature.

    Reads the body (aiohttp caches it, so your handler can still call
    ``request.post()``).  See :func:`public_request_url` for ``public_url``
    and ``trust_forwarded``; with a ``replay_cache`` a repeat is False.
    """
    signed = await _read(request, _validators(_tokens(auth_token)), public_url, trust_forwarded)
    if signed.ok and replay_cache is not None:
        return replay_cache.claim(signed.params.get("CallSid", ""), signed.signature)
    return signed.ok


# -- the handler -----------------------------------------------------------


def _forward_base(
    forward_to: str | None, client: AsyncVoiceClient | None, allow_insecure_http: bool
) -> URL:
    """Where StateSet is: ``forward_to``, else the client's, env or default base URL."""
    if client is not None:
        if forward_to is not None and URL(forward_to.rstrip("/")) != client.config.base_url:
            raise ConfigurationError("forward_to and client.base_url disagree; pass one of them")
        return client.config.base_url  # already vetted by the client
    return check_base_url(
        forward_to or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
        allow_insecure_http=allow_insecure_http,
    )


def _redact(url: str) -> str:
    """A URL fit for a log line: no userinfo, no query values."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" + ("?..." if parts.query else "")


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain")


class TwilioInboundHandler:
    """Verify Twilio's signature, then pass the call to StateSet.

    Build it with :func:`twilio_inbound_handler`, then either
    ``handler.mount(app, "/twilio/voice")`` or, by hand,
    ``app.router.add_post(path, handler.handle)`` and
    ``app.on_cleanup.append(handler.close)``.  ``handle`` (not the object) is
    what aiohttp wants: it only accepts coroutine *functions* without a
    deprecation warning.  The cleanup hook matters in ``proxy`` mode without a
    ``client``: the handler then opens its own :class:`AsyncVoiceClient` on
    first use and ``close`` closes it.
    """

    def __init__(
        self,
        auth_token: str | Sequence[str] | None,
        *,
        forward_to: str | None,
        public_url: str | None,
        mode: Mode,
        trust_forwarded: bool,
        client: AsyncVoiceClient | None,
        replay_cache: ReplayCache | None,
        allow_insecure_http: bool,
        forward_timeout: float,
    ) -> None:
        if mode not in ("redirect", "proxy"):
            raise ConfigurationError(f"mode must be 'redirect' or 'proxy', got {mode!r}")
        token = auth_token if auth_token is not None else os.environ.get(ENV_AUTH_TOKEN, "")
        self._validators = _validators(_tokens(token))
        if public_url is not None and not urlsplit(public_url).netloc:
            raise ConfigurationError(f"public_url must be an absolute URL, got {public_url!r}")
        self.public_url = public_url
        self.mode = mode
        self.trust_forwarded = trust_forwarded
        self.replay_cache = replay_cache
        self._base = _forward_base(forward_to, client, allow_insecure_http)
        self._client = client
        self._owns_client = client is None
        self._allow_insecure_http = allow_insecure_http
        self.forward_timeout = forward_timeout

    @property
    def target(self) -> str:
        """The incoming-call URL requests are redirected or forwarded to."""
        return str(self._base.with_path(self._base.path.rstrip("/") + INCOMING_CALL_PATH))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp request handler."""
        signed = await _read(request, self._validators, self.public_url, self.trust_forwarded)
        if not signed.ok:
            logger.warning(
                "rejected Twilio webhook for %s: %s signature (check public_url / "
                "trust_forwarded if the URL is not the one Twilio calls)",
                _redact(signed.url),
                "invalid" if signed.signature else "missing",
            )
            return _plain(401, "Unauthorized")
        call_sid = signed.params.get("CallSid", "")
        if self.replay_cache is not None and not self.replay_cache.claim(
            call_sid, signed.signature
        ):
            logger.warning("rejected replayed Twilio webhook (CallSid=%s)", call_sid)
            return _plain(401, "Unauthorized")
        if self.mode == "redirect":
            return self._redirect(request)
        return await self._proxy(request, signed, call_sid)

    def _redirect(self, request: web.Request) -> web.Response:
        """307 keeps method and body, so Twilio re-POSTs the same form to StateSet."""
        _, sep, query = request.raw_path.partition("?")
        location = self.target + (f"?{query}" if sep else "")
        return web.Response(status=307, headers={"Location": location})

    async def _proxy(self, request: web.Request, signed: _Signed, call_sid: str) -> web.Response:
        if request.content_type != FORM_CONTENT_TYPE:
            return _plain(415, "Unsupported Media Type")
        try:
            twiml = await self._forwarder().calls.forward_incoming(
                signed.params, timeout=self.forward_timeout
            )
        except VoiceError as exc:
            logger.error("forwarding Twilio webhook to StateSet failed: %s", exc)
            if self.replay_cache is not None:
                self.replay_cache.release(call_sid, signed.signature)
            return _plain(502, "Bad Gateway")
        return web.Response(text=twiml, content_type="text/xml")

    def _forwarder(self) -> AsyncVoiceClient:
        if self._client is None:
            self._client = AsyncVoiceClient(
                base_url=str(self._base), allow_insecure_http=self._allow_insecure_http
            )
        return self._client

    async def close(self, app: web.Application | None = None) -> None:
        """Close the client this handler opened (never one you passed).  An on_cleanup hook."""
        client = self._client
        if client is not None and self._owns_client:
            self._client = None
            await client.aclose()

    def mount(self, app: web.Application, path: str = DEFAULT_PATH) -> web.Application:
        """Route ``POST path`` to this handler and close it on app cleanup."""
        app.router.add_post(path, self.handle)
        app.on_cleanup.append(self.close)
        return app

    def __repr__(self) -> str:
        return f"TwilioInboundHandler(mode={self.mode!r}, target={self.target!r})"


def twilio_inbound_handler(
    auth_token: str | Sequence[str] | None = None,
    *,
    forward_to: str | None = None,
    public_url: str | None = None,
    mode: Mode = "redirect",
    trust_forwarded: bool = False,
    client: AsyncVoiceClient | None = None,
    replay_cache: ReplayCache | None = None,
    allow_insecure_http: bool = False,
    forward_timeout: float = DEFAULT_FORWARD_TIMEOUT,
) -> TwilioInboundHandler:
    """An aiohttp handler for Twilio's voice webhook, in front of StateSet.

    * missing or invalid ``X-Twilio-Signature`` (or a replay): ``401``, no details;
    * ``mode="redirect"``: ``307`` to ``forward_to`` + ``/api/v1/incoming-call``
      (query string kept); 307 makes Twilio re-POST the same form there;
    * ``mode="proxy"``: forwards the form itself through ``client`` (or its own
      client) and returns StateSet's TwiML -- for when Twilio must not see the
      StateSet URL.  A forwarding failure or ``forward_timeout`` is ``502``.

    ``auth_token`` defaults to ``TWILIO_AUTH_TOKEN`` (a list accepts several, for
    rotation); ``forward_to`` to ``client.base_url``, ``STATESET_VOICE_BASE_URL``
    or the hosted service.  ``public_url`` and ``trust_forwarded``: see
    :func:`public_request_url`.
    """
    return TwilioInboundHandler(
        auth_token,
        forward_to=forward_to,
        public_url=public_url,
        mode=mode,
        trust_forwarded=trust_forwarded,
        client=client,
        replay_cache=replay_cache,
        allow_insecure_http=allow_insecure_http,
        forward_timeout=forward_timeout,
    )


def twilio_inbound_app(
    auth_token: str | Sequence[str] | None = None,
    *,
    path: str = DEFAULT_PATH,
    forward_to: str | None = None,
    public_url: str | None = None,
    mode: Mode = "redirect",
    trust_forwarded: bool = False,
    client: AsyncVoiceClient | None = None,
    replay_cache: ReplayCache | None = None,
    allow_insecure_http: bool = False,
    forward_timeout: float = DEFAULT_FORWARD_TIMEOUT,
) -> web.Application:
    """A ready ``web.Application`` with the handler on ``POST path``.

    Run it with ``web.run_app(twilio_inbound_app(...))``; its own client (proxy
    mode) is closed on app cleanup.
    """
    handler = twilio_inbound_handler(
        auth_token,
        forward_to=forward_to,
        public_url=public_url,
        mode=mode,
        trust_forwarded=trust_forwarded,
        client=client,
        replay_cache=replay_cache,
        allow_insecure_http=allow_insecure_http,
        forward_timeout=forward_timeout,
    )
    return handler.mount(web.Application(), path)
