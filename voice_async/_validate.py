"""Input checks made before any request is sent: the one place for them.

Each check raises :class:`InvalidRequestError` naming the argument as the
caller spelled it, so a typo fails fast and locally instead of costing a round
trip (or, for ``make_call``, a phone call).  Per-call options (``timeout=``)
are arguments like any other and fail the same way; the client's constructor
uses the same checks and reports them as :class:`ConfigurationError`
(see ``_config``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ._errors import InvalidRequestError
from ._timeout import DEFAULT_CONNECT_TIMEOUT, Timeout

E164 = re.compile(r"\+[1-9][0-9]{7,14}")
AGENT_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
#: Ids travel in URL paths: allow what the service issues and nothing that
#: could change the path (``/``, ``..``, ``?``, whitespace).
PATH_ID = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,254}")
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
MAX_METADATA_BYTES = 16 * 1024
MAX_PAGE_LIMIT = 100
#: Header names a caller may not set: the credentials and the idempotency key
#: are the SDK's to choose (lower-case; compared case-insensitively).
RESERVED_HEADERS = frozenset({"authorization", "x-admin-key", "idempotency-key"})
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def phone(field: str, value: object) -> str:
    if not isinstance(value, str) or not E164.fullmatch(value):
        raise InvalidRequestError(
            field, f"must be an E.164 number like '+15555551234', got {value!r}"
        )
    return value


def agent_key(value: object) -> str:
    if not isinstance(value, str) or not AGENT_KEY.fullmatch(value):
        raise InvalidRequestError(
            "agent_key", "must be 1 to 128 characters of letters, digits, '_', '.', '-'"
        )
    return value


def path_id(field: str, value: object) -> str:
    if not isinstance(value, str) or not PATH_ID.fullmatch(value):
        raise InvalidRequestError(field, f"is not a valid id: {value!r}")
    return value


def idempotency_key(value: object) -> str:
    if not isinstance(value, str) or not IDEMPOTENCY_KEY.fullmatch(value):
        raise InvalidRequestError(
            "idempotency_key", "must be 1 to 255 printable ASCII characters without spaces"
        )
    return value


def metadata(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidRequestError("metadata", "must be a mapping with string keys")
    try:
        # Measured as sent: compact UTF-8 JSON (the transport encodes the same way).
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError("metadata", f"must be JSON-serialisable ({exc})") from None
    size = len(encoded.encode())
    if size > MAX_METADATA_BYTES:
        raise InvalidRequestError(
            "metadata", f"is {size} bytes encoded; the limit is {MAX_METADATA_BYTES}"
        )
    return dict(value)


def limit(value: object, field: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_LIMIT:
        raise InvalidRequestError(
            field, f"must be an int from 1 to {MAX_PAGE_LIMIT}, got {value!r}"
        )
    return value


def offset(value: object, field: str = "offset") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(field, f"must be an int >= 0, got {value!r}")
    return value


def timestamp(field: str, value: object) -> str:
    """A filter bound as ISO 8601 (naive datetimes are taken as UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return value
    raise InvalidRequestError(field, f"must be a datetime or ISO 8601 string, got {value!r}")


def short_text(field: str, value: object, *, max_len: int = 256) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise InvalidRequestError(field, f"must be a non-empty string of at most {max_len} chars")
    return value


def string_map(field: str, value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidRequestError(field, "must map strings to strings")
    return value


def number(field: str, value: object) -> float:
    """A finite int or float (``NaN``/``Infinity`` are not JSON)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequestError(field, f"must be a finite number, got {value!r}")
    return value


def integer(field: str, value: object, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(field, f"must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidRequestError(field, f"must be an int >= {minimum}, got {value!r}")
    return value


def seconds(field: str, value: object) -> float:
    """A positive, finite number of seconds."""
    amount = number(field, value)
    if amount <= 0:
        raise InvalidRequestError(field, f"must be a positive number of seconds, got {value!r}")
    return float(amount)


def timeout(value: object, field: str = "timeout") -> Timeout:
    """Seconds (one attempt's total; connect capped at 10 s) or a :class:`Timeout`."""
    if isinstance(value, Timeout):
        for part in ("total", "connect"):
            limit = getattr(value, part)
            if limit is not None:
                seconds(f"{field}.{part}", limit)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            field, f"must be a positive number of seconds or a Timeout, got {value!r}"
        )
    total = seconds(field, value)
    return Timeout(total=total, connect=min(total, DEFAULT_CONNECT_TIMEOUT))


def headers(field: str, value: object) -> dict[str, str]:
    """Caller-supplied headers: valid names, one-line values, no reserved name.

    ``Authorization``, ``x-admin-key`` and ``Idempotency-Key`` are refused:
    letting a header map override them would send a key where it does not
    belong or silently defeat ``idempotency_key=`` (and its retry safety).
    """
    if not isinstance(value, Mapping):
        raise InvalidRequestError(field, f"must map header names to values, got {value!r}")
    checked: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not HEADER_NAME.fullmatch(name):
            raise InvalidRequestError(field, f"{name!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise InvalidRequestError(
                field, f"cannot set {name!r}: the client sets it (credentials, idempotency_key=)"
            )
        if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
            raise InvalidRequestError(field, f"the value of {name!r} must be a one-line string")
        checked[name] = text
    return checked
