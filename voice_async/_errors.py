"""The SDK's error hierarchy.

Every failure the SDK reports is a :class:`VoiceError`, so callers can catch one
base class and never see a raw ``aiohttp`` or ``json`` exception.  HTTP status
errors are keyed by status code (like openai-python) so ``except
RateLimitError`` reads as what it means.  Messages never contain secrets: they
are built from the server's error body and the request id, never from headers.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "APIConnectionError",
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


class APIConnectionError(VoiceError):
    """The request could not be completed: DNS, refused, reset, TLS, ..."""

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class APITimeoutError(APIConnectionError):
    """The request (or the overall deadline) timed out."""


class APIResponseValidationError(VoiceError):
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


class APIStatusError(VoiceError):
    """The server answered with a non-2xx status.

    Carries what is needed to act on it or report it: ``status``, the server's
    ``request_id`` (quote it to support), ``error_type`` and ``param`` from the
    error body, a short ``body_excerpt`` (useful when a proxy answered with
    HTML), and ``retry_after`` seconds when the server sent that header.
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
    ) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id
        self.error_type = error_type
        self.param = param
        self.body_excerpt = body_excerpt
        self.headers: Mapping[str, str] = headers or {}
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


class EventStreamError(VoiceError):
    """The live-events stream failed for good (after any reconnects)."""

    def __init__(self, message: str, *, close_code: int | None = None) -> None:
        super().__init__(message)
        self.close_code = close_code


class _StreamStatusError(EventStreamError, APIStatusError):
    """A stream error that also means an HTTP status, so ``except`` by meaning works.

    ``except AuthenticationError`` catches a 4001 close as it catches a 401,
    ``except NotFoundError`` a 4004 as a 404.  ``status`` is the handshake's
    HTTP status when the upgrade was refused, else the status the close code
    stands for; ``close_code`` is ``None`` for a refused handshake.
    """

    STATUS = 0

    def __init__(
        self,
        message: str,
        *,
        close_code: int | None = None,
        status: int | None = None,
        request_id: str | None = None,
        body_excerpt: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        APIStatusError.__init__(
            self,
            message,
            status=status or self.STATUS,
            request_id=request_id,
            body_excerpt=body_excerpt,
            headers=headers,
        )
        self.close_code = close_code


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
