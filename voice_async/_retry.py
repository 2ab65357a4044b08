"""Retry policy: which failures to retry, and how long to wait (pure functions).

Kept free of I/O so the policy can be tested exactly with a seeded RNG and
without sleeping.  Backoff is exponential with *full* jitter (a uniform draw in
``[0, cap]``), which spreads a thundering herd of clients best.
"""

from __future__ import annotations

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


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``Retry-After``.

    ``Retry-After`` may be delta-seconds or an HTTP date; anything unparsable
    is ignored (``None``) rather than trusted.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
        return max(seconds, 0.0)
    return seconds if seconds >= 0 else None


def retry_delay(
    policy: RetryPolicy, retry_index: int, retry_after: float | None, rng: random.Random
) -> float | None:
    """The wait before the next attempt, or ``None`` when we must not retry."""
    if retry_index >= policy.max_retries:
        return None
    if retry_after is not None:
        return retry_after if retry_after <= policy.max_retry_after else None
    return policy.backoff(retry_index, rng)
