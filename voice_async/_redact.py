"""The one place that masks secrets in text that came from a server.

A server, or a proxy in front of it, may echo the caller's key back anywhere:
in a body, in ``x-request-id``, in any header name or value, in a WebSocket
close reason.  Every string the SDK keeps or emits from a response (error
messages and attributes, kept headers, request ids, log lines) goes through
:func:`redact` with the client's configured secrets (``Transport.secrets``),
so a key never reaches ``str(exc)``, a traceback or a log, whatever the
server sends.

Whole secrets are replaced *before* any text is cut to a short excerpt:
cutting first could leave most of a key that straddles the cut in clear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from multidict import CIMultiDict, CIMultiDictProxy

MASK = "****"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of every (non-empty) secret replaced by ``****``.

    Cheap when nothing matches (one substring search per secret), so it can
    guard hot-path strings such as request ids.
    """
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text


def header_pairs(headers: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """Every (name, value) pair of a header map, repeated headers included.

    aiohttp's ``CIMultiDictProxy.items()`` already yields repeats; the
    ``websockets`` ``Headers`` class keeps them behind ``raw_items()`` (its
    ``items()`` raises on a repeated name).
    """
    raw_items = getattr(headers, "raw_items", None)
    if callable(raw_items):
        return list(raw_items())
    return list(headers.items())


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str]) -> CIMultiDictProxy[str]:
    """A case-insensitive, read-only copy of ``headers`` (repeats kept), names and values masked."""
    secrets = tuple(secrets)
    copy: CIMultiDict[str] = CIMultiDict()
    for name, value in header_pairs(headers):
        copy.add(redact(str(name), secrets), redact(str(value), secrets))
    return CIMultiDictProxy(copy)
