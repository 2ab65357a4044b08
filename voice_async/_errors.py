"""The SDK's error hierarchy.

Every failure the SDK reports is a :class:`VoiceError`, so callers can catch one
base class and never see a raw ``aiohttp`` or ``json`` exception.  Below it,
:class:`APIError` gathers everything that came from the server or the network
(status errors, connection failures, timeouts, bad responses, a failed event
stream), so ``except APIError`` handles "the service misbehaved" without
swallowing bad arguments, a missing key or a closed client.  HTTP status
errors are keyed by status code (like openai-python) so ``except
RateLimitError`` reads as what it means.  Every string an error carries from a
response (message, request id, headers, excerpt) has the configured secrets
masked (see ``_redact``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "EventGapError",
    "EventProtocolError",
    "EventStreamError",
    "InternalServerError",
    "InvalidRequestError",
    "MissingCredentialsError",
    "NotFoundError",
    "PaginationStalledError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "SessionNotFoundError",
    "StreamUnauthorizedError",
    "UnprocessableEntityError",
    "VoiceError",
]


class VoiceError(Exception):
    """Base class of every error raised by ``voice_async``."""


class ConfigurationError(VoiceError):
    """The client was configured in a way that cannot work (bad base URL, ...)."""


class MissingCredentialsError(ConfigurationError):
    """An endpoint needs a key that was neither passed nor found in the environment."""


class ClientClosedError(VoiceError):
    """The client was used after ``aclose()`` or from another event loop."""


class InvalidRequestError(VoiceError, ValueError):
    """Bad input, caught before anything was sent.

    ``field`` names the offending argument as the caller spelled it
    (``from_``, ``limit``, ...), so the message can point straight at it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class APIError(VoiceError):
    """Something came back wrong from the server or the network.

    The base of status errors, connection errors and timeouts, undecodable or
    oversized responses, and event-stream failures.  Programming and setup
    errors (:class:`InvalidRequestError`, :class:`ConfigurationError`,
    :class:`ClientClosedError`) are *not* ``APIError``: they need a code fix,
    not a retry or an alert about the service.
    """


class APIConnectionError(APIError):
    """The request could not be completed: DNS, refused, reset, TLS, ..."""

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class APITimeoutError(APIConnectionError):
    """The request (or the overall deadline) timed out."""


class APIResponseValidationError(APIError):
    """A 2xx response whose body could not be decoded into the expected model."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id
        self.body_excerpt = body_excerpt


class APIStatusError(APIError):
    """The server answered with a non-2xx status.

    Carries what is needed to act on it or report it: ``status``, the server's
    ``request_id`` (quote it to support), ``error_type`` and ``param`` from the
    error body, a short ``body_excerpt`` (useful when a proxy answered with
    HTML), and ``retry_after`` seconds when the server sent that header.
    ``headers`` is a read-only case-insensitive multi-dict of the response
    headers, repeated headers kept, secrets masked.

    The initialiser is cooperative (it forwards unknown keywords up the MRO),
    so a class can be both a status error and an :class:`EventStreamError`
    (``except AuthenticationError`` then also catches the stream's 4001).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        request_id: str | None = None,
        error_type: str | None = None,
        param: str | None = None,
        body_excerpt: str = "",
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        # Imported here: ``import voice_async`` and catching its errors should
        # not pay for multidict (it is loaded with aiohttp by the first request).
        from multidict import CIMultiDict, CIMultiDictProxy

        super().__init__(message, **kwargs)
        self.status = status
        self.request_id = request_id
        self.error_type = error_type
        self.param = param
        self.body_excerpt = body_excerpt
        self.headers: CIMultiDictProxy[str] = (
            headers
            if isinstance(headers, CIMultiDictProxy)
            else CIMultiDictProxy(CIMultiDict(headers or {}))
        )
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: the server rejected the query or body."""


class AuthenticationError(APIStatusError):
    """401: missing or invalid key."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but not allowed here."""


class NotFoundError(APIStatusError):
    """404: no such session or tenant."""


class ConflictError(APIStatusError):
    """409: idempotency key reused with another body, or a stale ``If-Match``."""


class UnprocessableEntityError(APIStatusError):
    """422: well-formed but semantically invalid (e.g. unknown ``agent_key``)."""


class RateLimitError(APIStatusError):
    """429: slow down; ``retry_after`` says for how long when the server said."""


class InternalServerError(APIStatusError):
    """5xx: the server failed; retried automatically before this is raised."""


class ResponseTooLargeError(APIResponseValidationError):
    """The response body grew past ``max_response_bytes``.

    Raised while the body streams in, so memory stays bounded however much a
    broken or hostile server sends; the connection is discarded and the call
    is not retried (the same server would most likely send the same again).
    ``limit`` is the cap in bytes; ``status`` the response's HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.limit = limit


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The most specific error class for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status, APIStatusError)


class EventStreamError(APIError):
    """The live-events stream failed for good (after any reconnects).

    Cooperative like :class:`APIStatusError`: extra keywords go up the MRO,
    so ``class X(EventStreamError, NotFoundError)`` can take ``status=404``.
    """

    def __init__(self, message: str, *, close_code: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.close_code = close_code


class _StreamStatusError(EventStreamError, APIStatusError):
    """A stream error that also means an HTTP status, so ``except`` by meaning works.

    ``except AuthenticationError`` catches a 4001 close as it catches a 401,
    ``except NotFoundError`` a 4004 as a 404.  ``status`` is the handshake's
    HTTP status when the upgrade was refused, else the status the close code
    stands for; ``close_code`` is ``None`` for a refused handshake.
    """

    STATUS = 0

    def __init__(self, message: str, *, status: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, status=status or self.STATUS, **kwargs)


class StreamUnauthorizedError(_StreamStatusError, AuthenticationError):
    """Close 4001 (or handshake 401/403): the key may not read this stream."""

    STATUS = 401


class SessionNotFoundError(_StreamStatusError, NotFoundError):
    """Close 4004 (or handshake 404): no such session."""

    STATUS = 404


class EventGapError(EventStreamError):
    """Events were lost: the server no longer buffers the seqs needed to resume.

    Raised instead of silently skipping, because a consumer that believes it
    saw every event must not be told otherwise by omission.
    """

    def __init__(self, message: str, *, expected_seq: int, got_seq: int) -> None:
        super().__init__(message)
        self.expected_seq = expected_seq
        self.got_seq = got_seq


class PaginationStalledError(APIResponseValidationError):
    """``sessions.iter()`` met pages that bring nothing new: the server ignores ``offset``.

    Raised after a few such pages in a row (or at once when ``total`` proves
    it) instead of looping forever or ending with sessions silently skipped.
    """

    def __init__(self, message: str, *, stalled_pages: int, offset: int) -> None:
        super().__init__(message)
        self.stalled_pages = stalled_pages
        self.offset = offset


class EventProtocolError(EventStreamError):
    """The events server broke the protocol (e.g. a frame for another session).

    Final: such a stream cannot be trusted, so nothing from it is yielded.
    """
