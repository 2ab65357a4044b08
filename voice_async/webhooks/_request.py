"""Reading an aiohttp request: the URL Twilio signed, the body, the verdict."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

import attrs
from aiohttp import web
from multidict import MultiDict

from ._replay import ReplayCache
from ._signature import SIGNATURE_HEADER, AuthTokens

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _first(header: str | None) -> str | None:
    """First hop of a comma-separated forwarded header, or None if blank."""
    value = (header or "").split(",")[0].strip()
    return value or None


def public_request_url(
    request: web.Request, public_url: str | None = None, *, trust_forwarded: bool = False
) -> str:
    """The URL Twilio called, as it signed it.

    Twilio signs the URL it requested; behind a proxy, load balancer or tunnel
    that is not the URL the app sees, so it is rebuilt here:

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
class SignedRequest:
    """A request after verification: the verdict, and what it was decided on."""

    ok: bool
    url: str
    params: MultiDict[str]
    signature: str = attrs.field(repr=False)


async def read_signed(
    request: web.Request,
    tokens: AuthTokens,
    public_url: str | None,
    trust_forwarded: bool,
) -> SignedRequest:
    """Read the body once, pick what was signed, verify.

    A form is checked field by field; any other body only as a JSON webhook's
    raw body against ``bodySHA256``.  A body that is not UTF-8 fails.
    """
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
            signed = text
    except UnicodeDecodeError:
        return SignedRequest(False, url, params, signature)
    return SignedRequest(tokens.verify(url, signed, signature), url, params, signature)


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
    signed = await read_signed(request, AuthTokens(auth_token), public_url, trust_forwarded)
    if signed.ok and replay_cache is not None:
        return replay_cache.claim(signed.url, signed.signature)
    return signed.ok
