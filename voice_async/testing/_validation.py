"""Request validation, one function per input shape; failures raise ApiError.

Known agent keys: every well-formed ``agent_key`` is known except those that
start with ``"unknown"``, which get ``422 validation_error``. That gives tests
a way to hit the "well-formed but semantically invalid" branch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import ApiError
from ._filters import ListQuery, SessionFilter
from ._util import parse_iso

E164 = re.compile(r"\+[1-9][0-9]{7,14}")
AGENT_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
#: Integers in queries and headers: at most 19 digits, so ``int()`` never meets
#: Python's 4300-digit conversion limit (a ValueError, i.e. a 500) and the
#: value fits the 64-bit range every real server would use.
_INTEGER = re.compile(r"[0-9]{1,19}")
_IF_MATCH = re.compile(r'(?:W/)?"?([0-9]{1,19})"?')
MAX_INTEGER = 2**63 - 1
MAX_METADATA_BYTES = 16 * 1024
MAX_IDEMPOTENCY_KEY = 255
SESSION_STATUSES = frozenset(
    {"queued", "ringing", "in_progress", "completed", "failed", "canceled", "no_answer", "busy"}
)
DIRECTIONS = frozenset({"inbound", "outbound"})
_CALL_FIELDS = frozenset({"to", "from", "agent_key", "metadata"})


@dataclass(frozen=True)
class CallRequest:
    to: str
    from_: str
    agent_key: str
    metadata: dict[str, Any]

    def canonical(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "from": self.from_,
            "agent_key": self.agent_key,
            "metadata": self.metadata,
        }


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "request body is not valid JSON") from None
    except RecursionError:  # e.g. 100k nested arrays: the decoder's own limit
        raise ApiError(400, "request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def _phone(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise ApiError(400, f"{name} is required", param=name)
    if not isinstance(value, str) or not E164.fullmatch(value):
        raise ApiError(400, f"{name} must be an E.164 phone number like +15555551234", param=name)
    return value


def _agent_key(body: dict[str, Any]) -> str:
    value = body.get("agent_key")
    if value is None:
        raise ApiError(400, "agent_key is required", param="agent_key")
    if not isinstance(value, str) or not AGENT_KEY.fullmatch(value):
        raise ApiError(
            400, "agent_key must be 1-128 characters of [A-Za-z0-9_.-]", param="agent_key"
        )
    return value


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("metadata")
    if value is None:  # absent or null: no metadata
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "metadata must be a JSON object", param="metadata")
    try:
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
        raise ApiError(400, "metadata must be valid Unicode", param="metadata") from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise ApiError(400, "metadata must be at most 16 KiB when encoded", param="metadata")
    return value


def validate_call(raw: bytes) -> CallRequest:
    body = parse_json_object(raw)
    for name in sorted(body):
        if name not in _CALL_FIELDS:
            raise ApiError(400, f"unknown field {name!r}", param=name)
    request = CallRequest(
        _phone(body, "to"), _phone(body, "from"), _agent_key(body), _metadata(body)
    )
    if request.agent_key.startswith("unknown"):
        raise ApiError(422, f"unknown agent_key {request.agent_key!r}", param="agent_key")
    return request


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    key = headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise ApiError(400, "Idempotency-Key must be 1-255 characters", param="Idempotency-Key")
    return key


def _int_param(query: Mapping[str, str], name: str, default: int, lo: int, hi: int | None) -> int:
    text = query.get(name)
    if text is None:
        return default
    top = MAX_INTEGER if hi is None else hi
    value = int(text) if _INTEGER.fullmatch(text) else None
    if value is None or not lo <= value <= top:
        raise ApiError(400, f"{name} must be an integer between {lo} and {top}", param=name)
    return value


def _choice(query: Mapping[str, str], name: str, allowed: frozenset[str]) -> str | None:
    value = query.get(name)
    if value is not None and value not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(sorted(allowed))}", param=name)
    return value


def _time(query: Mapping[str, str], name: str) -> float | None:
    text = query.get(name)
    if text is None:
        return None
    value = parse_iso(text)
    if value is None:
        raise ApiError(400, f"{name} must be an ISO 8601 timestamp", param=name)
    return value


def parse_list_query(query: Mapping[str, str]) -> ListQuery:
    agent_key = query.get("agent_key")
    if agent_key is not None and not AGENT_KEY.fullmatch(agent_key):
        raise ApiError(
            400, "agent_key must be 1-128 characters of [A-Za-z0-9_.-]", param="agent_key"
        )
    flt = SessionFilter(
        status=_choice(query, "status", SESSION_STATUSES),
        direction=_choice(query, "direction", DIRECTIONS),
        agent_key=agent_key,
        created_after=_time(query, "created_after"),
        created_before=_time(query, "created_before"),
    )
    return ListQuery(
        limit=_int_param(query, "limit", 25, 1, 100),
        offset=_int_param(query, "offset", 0, 0, None),
        filter=flt,
    )


def parse_after_seq(query: Mapping[str, str]) -> int:
    return _int_param(query, "after_seq", 0, 0, None)


_CONFIG_STRINGS = ("model", "voice", "system_prompt_key")


def _config_field(name: str, value: Any) -> Any:
    if name in _CONFIG_STRINGS:
        if not isinstance(value, str) or not 1 <= len(value) <= 256:
            raise ApiError(400, f"{name} must be a non-empty string", param=name)
        return value
    if name == "temperature":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not 0 <= value <= 2:
            raise ApiError(400, "temperature must be a number between 0 and 2", param=name)
        return float(value)
    if name == "max_call_seconds":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 14400:
            raise ApiError(
                400, "max_call_seconds must be an integer between 1 and 14400", param=name
            )
        return value
    raise ApiError(400, f"unknown field {name!r}", param=name)


def validate_config_patch(raw: bytes) -> dict[str, Any]:
    body = parse_json_object(raw)
    if not body:
        raise ApiError(400, "at least one field is required")
    return {name: _config_field(name, body[name]) for name in sorted(body)}


def parse_if_match(headers: Mapping[str, str]) -> int | None:
    """``If-Match: 4``, ``"4"`` or ``W/"4"``; ``*`` means any version."""
    text = headers.get("If-Match")
    if text is None or text.strip() == "*":
        return None
    match = _IF_MATCH.fullmatch(text.strip())
    if match is None or int(match.group(1)) > MAX_INTEGER:
        raise ApiError(400, "If-Match must be a config version", param="If-Match")
    return int(match.group(1))
