"""Retry policy: which failures to retry, and how long to wait (pure functions).

Kept free of I/O so the policy can be tested exactly with a seeded RNG and
without sleeping.  Backoff is exponential with *full* jitter (a uniform draw in
``[0, cap]``), which spreads a thundering herd of clients best.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import attrs

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: A 409 with this error type means "the same Idempotency-Key is still being
#: processed": waiting and retrying is exactly right.  Other 409s are final.
IN_PROGRESS_ERROR_TYPE = "idempotency_in_progress"


@attrs.frozen
class RetryPolicy:
    """How many times, and how patiently, to retry one call.

    ``max_retry_after``: a server asking us to wait longer than this is told
    no: the error is raised at once (with ``retry_after`` on it) rather than
    blocking the caller for minutes or ignoring the server's request.
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry_index: int, rng: random.Random) -> float:
        """Delay before retry number ``retry_index`` (0-based): full jitter."""
        cap = min(self.max_backoff, self.initial_backoff * (2**retry_index))
        return rng.uniform(0.0, cap)


def is_retryable_status(status: int, error_type: str | None) -> bool:
    if status == 409:
        return error_type == IN_PROGRESS_ERROR_TYPE
    return status in RETRYABLE_STATUSES or status >= 500


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """One header's value; ``None`` when absent or ambiguous.

    ``websockets``' ``Headers.get`` raises (a ``LookupError``) on a repeated
    name instead of choosing one: a server's duplicate must not escape.
    """
    try:
        value = headers.get(name)
    except LookupError:
        return None
    return value if isinstance(value, str) else None


def _seconds(text: str, scale: float = 1.0) -> float | None:
    """A finite, non-negative number of seconds, or ``None``.

    ``float()`` never overflows on a long digit string (it gives ``inf``),
    and NaN fails every comparison, so the range check rejects both.
    """
    try:
        value = float(text) / scale
    except ValueError:
        return None
    return value if 0.0 <= value < math.inf else None


def _date_delta(text: str, now: datetime | None) -> float | None:
    """Seconds until an HTTP date (0 when past), or ``None``.

    The date parser builds a ``timedelta`` from the zone offset as sent, so
    ``+99999999999999999999`` raises ``OverflowError``; a year past 9999
    raises ``ValueError``.  Both mean "not a date we can honour".
    """
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(seconds, 0.0)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``Retry-After``.

    ``Retry-After`` may be delta-seconds or an HTTP date; anything unparsable,
    negative, infinite or out of any calendar is ignored (``None``) rather than
    trusted.  Total: whatever the server sends, this returns ``None`` or a
    finite float ``>= 0`` and raises nothing (used for HTTP responses and the
    WebSocket handshake alike).
    """
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        value = _seconds(ms, 1000.0)
        if value is not None:
            return value
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    value = _seconds(raw)
    return value if value is not None else _date_delta(raw, now)


def retry_delay(
    policy: RetryPolicy, retry_index: int, retry_after: float | None, rng: random.Random
) -> float | None:
    """The wait before the next attempt, or ``None`` when we must not retry."""
    if retry_index >= policy.max_retries:
        return None
    if retry_after is not None:
        return retry_after if retry_after <= policy.max_retry_after else None
    return policy.backoff(retry_index, rng)
