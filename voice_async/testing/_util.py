"""Ids, timestamps and hashing shared by the emulator modules.

Why hand-rolled instead of a ULID library: session ids must sort like their
creation time (the list order is ``created_at`` desc then ``id`` desc, and it
has to be total), and the ids of seeded sessions must be *derivable* from an
index and a seed so that 100k of them never need to be stored.
"""

from __future__ import annotations

import hmac
import random
import secrets
import time
from contextvars import ContextVar
from datetime import datetime, timezone

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_VALUE = {ch: i for i, ch in enumerate(CROCKFORD)}
_MASK64 = (1 << 64) - 1
_MASK80 = (1 << 80) - 1


#: The ``x-request-id`` of the request being handled. A ContextVar rather than
#: ``request["request_id"]``: aiohttp 3.14 warns (``NotAppKeyWarning``) on
#: string keys, ``web.RequestKey`` does not exist before 3.14, and custom
#: request attributes warn too; a handler runs in the middleware's task, so
#: the variable is request-scoped on every aiohttp version.
REQUEST_ID: ContextVar[str] = ContextVar("voice_async_emulator_request_id", default="")


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def mix64(value: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit hash of an integer.

    Used instead of one ``random.Random`` per seeded session because it is an
    order of magnitude cheaper, which keeps filtered scans over 100k sessions fast.
    """
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


#: Every 10-bit value as its two Crockford digits: 13 lookups encode a ULID.
_PAIRS = tuple(a + b for a in CROCKFORD for b in CROCKFORD)
_SHIFTS = tuple(range(120, -1, -10))


def encode_ulid(value: int) -> str:
    """Encode a 128-bit integer as 26 Crockford base32 characters.

    Two digits per table lookup, because list pages of 100k seeded sessions
    make this hot (a digit-at-a-time loop was most of a page's cost).
    """
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def ulid_from_parts(timestamp_ms: int, random80: int) -> str:
    """A ULID body: 48 bits of milliseconds then 80 bits of randomness."""
    return encode_ulid((timestamp_ms << 80) | (random80 & _MASK80))


def ulid_timestamp_ms(body: str) -> int | None:
    """The millisecond timestamp of a ULID body, or None if it is not one."""
    if len(body) != 26:
        return None
    value = 0
    for ch in body:
        digit = _CROCKFORD_VALUE.get(ch)
        if digit is None:
            return None
        value = (value << 5) | digit
    return value >> 80


class MonotonicUlid:
    """ULIDs that strictly increase even within one millisecond.

    Strictly increasing ids give sessions created in the same second a stable
    order (``id`` desc is the tie-break of the list order).
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._last = 0

    def next(self, timestamp_ms: int) -> str:
        value = (timestamp_ms << 80) | self._rng.getrandbits(80)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return encode_ulid(value)


_last_iso: tuple[int, str] = (-1, "")


def iso_seconds(epoch: float) -> str:
    """``2026-11-25T15:30:00Z`` (the contract's timestamp shape).

    Calls placed in the same second share one string object: with 100k
    stored sessions the duplicates were ~300 bytes per call.
    """
    global _last_iso
    second = int(epoch)
    if _last_iso[0] != second:
        _last_iso = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _last_iso[1]


def iso_millis(epoch_ms: int) -> str:
    """``2026-11-25T15:30:09.120Z`` (the event ``ts`` shape)."""
    seconds, millis = divmod(epoch_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def parse_iso(value: str) -> float | None:
    """Parse an ISO 8601 timestamp to epoch seconds; naive means UTC.

    ``datetime.fromisoformat`` only accepts a trailing ``Z`` from Python 3.11,
    hence the replacement (Python 3.10 must be supported).
    """
    text = value.strip()
    if not text:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def secret_equals(given: str | None, expected: str) -> bool:
    """Constant-time key comparison (keys are secrets even in an emulator)."""
    if given is None:
        return False
    # aiohttp decodes header bytes as UTF-8 with surrogateescape: non-UTF-8
    # bytes in a header must compare unequal, not raise UnicodeEncodeError.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def mask_secret(secret: str) -> str:
    """Show at most the last 4 characters of a secret."""
    return "…" + secret[-4:] if len(secret) > 4 else "…"
