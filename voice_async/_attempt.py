"""One HTTP attempt: send, read the bounded body, map the answer.

:class:`Transport` builds an :class:`Attempt` once per logical request and
calls :meth:`Attempt.send` for the first try and every retry, so a retry
resends exactly the same bytes and headers.  Kept apart from the retry loop
so each reads at once: this module is what one exchange does, ``_transport``
is when to try again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import aiohttp
import attrs

from ._config import Timeout
from ._errors import APIConnectionError, APITimeoutError, ResponseTooLargeError
from ._redact import redact
from ._response import Expect, Response, decode, read_body, status_error

if TYPE_CHECKING:
    from ._transport import Transport

logger = logging.getLogger("voice_async")


@attrs.define
class Attempt:
    """Everything needed to send the same request again, identically."""

    transport: Transport
    method: str
    path: str
    params: Mapping[str, str | int] | None
    data: bytes | None
    headers: dict[str, str]
    timeout: Timeout
    expect: Expect

    def _client_timeout(self, remaining: float | None) -> aiohttp.ClientTimeout:
        if remaining is None and self.timeout is self.transport.config.timeout:
            return self.transport._timeout  # frozen, so shared safely
        return client_timeout(self.timeout, remaining)

    async def send(self, number: int, remaining: float | None) -> Response:
        transport = self.transport
        secrets = transport.secrets
        session = transport.pool.session()
        # The log line's clock is read only when DEBUG is on (most processes: off).
        started = time.perf_counter() if logger.isEnabledFor(logging.DEBUG) else None
        where = f"{self.method} {self.path}"
        try:
            async with session.request(
                self.method,
                transport.url(self.path),
                params=self.params,
                data=self.data,
                headers=self.headers,
                timeout=self._client_timeout(remaining),
                # The API never redirects, and aiohttp would forward x-admin-key
                # to another origin (it strips only Authorization): a 3xx is an error.
                allow_redirects=False,
                # Bodies are inflated by read_body, bounded by max_response_bytes.
                auto_decompress=False,
            ) as resp:
                status, headers = resp.status, resp.headers
                request_id = headers.get("x-request-id")
                if request_id is not None:
                    request_id = redact(request_id, secrets)
                try:
                    body = await read_body(
                        resp, transport.config.max_response_bytes, where, request_id
                    )
                except ResponseTooLargeError:
                    _log(where, "too large", started, number, request_id)
                    raise
        except asyncio.TimeoutError:
            _log(where, "timeout", started, number, None)
            failure: APIConnectionError | None = APITimeoutError(
                f"{where} timed out", method=self.method, path=self.path
            )
        except aiohttp.ClientError as exc:
            _log(where, type(exc).__name__, started, number, None)
            # aiohttp quotes what the server sent (a bad status line, a
            # header): mask it like any other server-supplied text.
            failure = APIConnectionError(
                redact(f"{where} failed: {type(exc).__name__}: {exc}", secrets)[:1000],
                method=self.method,
                path=self.path,
            )
        else:
            failure = None
        if failure is not None:
            # Raised outside the ``except``: the original would stay reachable
            # as ``__context__``, with the server's text unmasked.
            raise failure
        _log(where, status, started, number, request_id)
        if status >= 300:
            raise status_error(status, headers, body, secrets)
        data = decode(body, status, self.expect, where, request_id, secrets)
        return Response(status, headers, body, data, request_id, number - 1)


def client_timeout(timeout: Timeout, remaining: float | None) -> aiohttp.ClientTimeout:
    """One attempt's aiohttp timeout: ``timeout``, cut to what the deadline leaves."""
    total = timeout.total
    if remaining is not None:
        total = max(0.001, remaining if total is None else min(total, remaining))
    return aiohttp.ClientTimeout(total=total, connect=timeout.connect)


def _log(
    where: str, outcome: object, started: float | None, number: int, request_id: str | None
) -> None:
    if started is not None:
        logger.debug(
            "%s -> %s in %.1fms (attempt %d, request_id=%s)",
            where,
            outcome,
            (time.perf_counter() - started) * 1000,
            number,
            request_id,
        )
