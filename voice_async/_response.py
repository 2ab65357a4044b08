"""What the transport does with an answer: read it (bounded), map errors, decode.

Kept apart from ``_transport`` (which decides *how to send*), and written so a
broken or hostile server cannot hurt the caller: bodies are read under a byte
cap while they stream in, every server-supplied string is masked with the
client's secrets before it is stored or printed, and nothing but a
:class:`VoiceError` subclass leaves these functions.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import aiohttp
import attrs
from multidict import CIMultiDictProxy

from ._convert import json_loads, structure
from ._errors import (
    APIResponseValidationError,
    APIStatusError,
    ResponseTooLargeError,
    status_error_class,
)
from ._redact import redact, redact_headers
from ._retry import parse_retry_after

#: What an endpoint answers on success: a JSON document, or text (TwiML).
Expect = Literal["json", "text"]
EXCERPT_CHARS = 200
#: Statuses that carry no body by definition (RFC 9110).
NO_CONTENT = frozenset({204, 205})
#: What the transport asks for, and decodes itself (aiohttp's decoding is
#: turned off): only these two, so a compressed body is bounded too.
ACCEPT_ENCODING = "gzip, deflate"
_IDENTITY = frozenset({"", "identity"})


@attrs.define
class Response:
    """A completed 2xx response: status, headers, raw body and decoded JSON.

    Internal, made once per call: not frozen, because a frozen class's
    ``__init__`` sets each field through ``object.__setattr__`` (~0.2 us a
    call); nothing changes it after the transport made it.

    ``data`` is ``None`` when a 2xx came without a body (a 204, or an empty
    200): the server reported success and there is nothing to decode, so the
    transport neither fails nor retries; a resource that needed a model says
    so when it decodes.  ``request_id`` has the client's secrets masked.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    data: Any
    request_id: str | None
    #: Retries before this answer (0: the first attempt); ``RawResponse`` reports it.
    retries_taken: int = 0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def body_excerpt(body: bytes, secrets: tuple[str, ...] = ()) -> str:
    """A short, single-line, secret-free view of a body for error messages.

    Secrets are masked in the whole body *before* any cut: masking after it
    would leave most of a key that straddles the cut in plain sight.
    """
    text = redact(body.decode("utf-8", errors="replace"), secrets)
    return " ".join(text[: EXCERPT_CHARS * 4].split())[:EXCERPT_CHARS]


def _error_fields(body: bytes) -> tuple[str | None, str | None, str | None]:
    """``(type, param, message)`` from a contract error body, when it is one."""
    try:
        payload = json_loads(body) if body else None
    except (ValueError, RecursionError):  # deeply nested JSON raises RecursionError
        return None, None, None
    err = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(err, dict):
        return None, None, None
    fields = (err.get("type"), err.get("param"), err.get("message"))
    return tuple(v if isinstance(v, str) else None for v in fields)  # type: ignore[return-value]


def status_error(
    status: int, headers: Mapping[str, str], body: bytes, secrets: tuple[str, ...] = ()
) -> APIStatusError:
    """Map a non-2xx response to its typed error, whatever the body looks like.

    Accepts aiohttp's and websockets' header maps alike; the error keeps a
    masked copy of every header, repeated ones included.
    """
    error_type, param, message = _error_fields(body)
    kept = redact_headers(headers, secrets)
    excerpt = body_excerpt(body, secrets)
    request_id = kept.get("x-request-id")
    summary = redact(message, secrets) if message else excerpt or "(empty body)"
    if error_type:
        error_type = redact(error_type, secrets)
    if param:
        param = redact(param, secrets)
    text = f"HTTP {status}" + (f" {error_type}" if error_type else "") + f": {summary[:300]}"
    if request_id:
        text += f" (request_id={request_id[:200]})"
    return status_error_class(status)(
        text,
        status=status,
        request_id=request_id,
        error_type=error_type,
        param=param,
        body_excerpt=excerpt,
        headers=kept,
        retry_after=parse_retry_after(kept),
    )


async def read_body(
    resp: aiohttp.ClientResponse, cap: int, where: str, request_id: str | None
) -> bytes:
    """The whole body, or :class:`ResponseTooLargeError` as soon as it passes ``cap`` bytes.

    A declared ``Content-Length`` over the cap fails before reading a byte;
    otherwise chunks are counted as they arrive, so an endless body costs at
    most ``cap`` bytes of memory.  A compressed body is inflated here, never
    producing more than the cap allows (aiohttp's own decoder would inflate
    each network chunk up to 32 MiB first: a gzip bomb's whole point).  On
    failure the connection is closed, not returned to the pool: it still
    has an unread body on it.
    """
    length = resp.content_length
    if length is not None and length > cap:
        raise _too_large(resp, cap, where, request_id)
    encoding = resp.headers.get("Content-Encoding")
    if encoding is not None and encoding.strip().lower() not in _IDENTITY:
        return await _read_compressed(resp, encoding.strip().lower(), cap, where, request_id)
    stream = resp.content
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.readany():
        size += len(chunk)
        if size > cap:
            raise _too_large(resp, cap, where, request_id)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _read_compressed(
    resp: aiohttp.ClientResponse, encoding: str, cap: int, where: str, request_id: str | None
) -> bytes:
    """Inflate a gzip/deflate body with the output of each step bounded by the cap."""
    if encoding not in ("gzip", "x-gzip", "deflate"):
        resp.close()
        raise APIResponseValidationError(
            f"HTTP {resp.status} response to {where} uses Content-Encoding "
            f"{encoding[:40]!r}; only gzip and deflate were accepted",
            status=resp.status,
            request_id=request_id,
        )
    inflater: Any = None
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await resp.content.readany():
            if inflater is None:
                # deflate is zlib-wrapped by the RFC, raw in some servers' hands.
                raw = encoding == "deflate" and chunk[0] & 0x0F != 8
                inflater = zlib.decompressobj(-15 if raw else 47)
            out = inflater.decompress(chunk, cap + 1 - size)
            size += len(out)
            if size > cap or inflater.unconsumed_tail:
                raise _too_large(resp, cap, where, request_id)
            chunks.append(out)
        if inflater is not None:
            tail = inflater.flush()  # at most a window's worth: the input is all consumed
            if size + len(tail) > cap:
                raise _too_large(resp, cap, where, request_id)
            chunks.append(tail)
    except zlib.error:
        resp.close()
        raise APIResponseValidationError(
            f"HTTP {resp.status} response to {where} is not valid {encoding}",
            status=resp.status,
            request_id=request_id,
        ) from None
    return b"".join(chunks)


def _too_large(
    resp: aiohttp.ClientResponse, cap: int, where: str, request_id: str | None
) -> ResponseTooLargeError:
    resp.close()
    return ResponseTooLargeError(
        f"HTTP {resp.status} response to {where} is larger than max_response_bytes={cap}"
        + (f" (request_id={request_id[:200]})" if request_id else ""),
        limit=cap,
        status=resp.status,
        request_id=request_id,
    )


def decode(
    body: bytes,
    status: int,
    expect: Expect,
    where: str,
    request_id: str | None,
    secrets: tuple[str, ...],
) -> Any:
    """The JSON document of a 2xx, ``None`` when it has no body or text is expected.

    A body that is present but not JSON is an error (a truncated or foreign
    answer, retried for idempotent requests); no body at all is not.
    """
    if expect != "json" or not body or status in NO_CONTENT:
        return None
    try:
        return json_loads(body)
    except (ValueError, RecursionError):  # deeply nested JSON raises RecursionError
        pass
    # Outside the ``except``: a JSONDecodeError keeps the whole body (``.doc``).
    raise APIResponseValidationError(
        f"HTTP {status} response to {where} is not valid JSON"
        + (f" (request_id={request_id[:200]})" if request_id else ""),
        status=status,
        request_id=request_id,
        body_excerpt=body_excerpt(body, secrets),
    )


T = TypeVar("T")


def parse(response: Response, cls: type[T], secrets: tuple[str, ...]) -> T:
    """Decode a response into ``cls``; a mismatch is a masked, typed error.

    The decoder's own message may quote the payload (and so an echoed key),
    and its excerpt is cut before any masking could happen: both are rebuilt
    here from the raw body, masked, with the status and request id attached.
    """
    try:
        return structure(response.data, cls)
    except APIResponseValidationError as exc:
        error = masked_decode_error(response, exc, cls.__name__, secrets)
    # Raised outside the ``except`` so the decoder's error (which quotes the
    # payload unmasked) is not kept as ``__context__``.
    raise error


def masked_decode_error(
    response: Response,
    exc: APIResponseValidationError,
    expected: str,
    secrets: tuple[str, ...],
    *,
    keep_excerpt: bool = False,
) -> APIResponseValidationError:
    """``exc`` (a decoder's error on ``response``) rebuilt masked, for :func:`parse`'s peers.

    ``keep_excerpt`` keeps the decoder's excerpt (a page's decoder quotes the
    bad *item*, more useful than the page's start) when the body holds no
    secret; otherwise the excerpt is rebuilt from the body, masked before it
    is cut.  Raise the result outside the ``except`` block that caught ``exc``.
    """
    if response.data is None and not response.body:
        reason = f"response has no body; a {expected} was expected"
    else:
        reason = redact(str(exc), secrets)
    excerpt = exc.body_excerpt
    if not keep_excerpt or any(s and s.encode() in response.body for s in secrets):
        excerpt = body_excerpt(response.body, secrets)
    return APIResponseValidationError(
        f"HTTP {response.status}: {reason}"[:300]
        + (f" (request_id={response.request_id[:200]})" if response.request_id else ""),
        status=response.status,
        request_id=response.request_id,
        body_excerpt=excerpt,
    )
