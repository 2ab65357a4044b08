"""Campaigns, sans I/O: rows, keys, outcomes, the decision per error, the summary.

Everything here is pure (no sockets, no files, no event loop), so the rules
that make a campaign exactly-once can be tested exactly:

* a row's *key* is stable (given, or a hash of its content), and the
  ``Idempotency-Key`` sent for it is derived from ``(campaign_id, key)`` only,
  so every retry, rerun or second process asks the server for the same call
  and the server de-duplicates it;
* each failure maps to one :class:`Action`: throttle the whole campaign (429),
  retry the row (transient), fail the row (the row's own fault), or stop the
  campaign (the credentials' fault).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from . import _validate as check
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitError,
    VoiceError,
)
from ._retry import is_retryable_status

Outcome = Literal["placed", "failed", "skipped_done"]
#: Prefix of every derived ``Idempotency-Key``: says who made it, and lets a
#: future key scheme live next to this one.
IDEMPOTENCY_PREFIX = "vacmp1_"


@attrs.frozen
class CallRow:
    """One row of a campaign: who to call, from which number, with which agent.

    ``key`` identifies the row across runs (an order id, a CRM contact id).
    Left out, it is a hash of the row's content, so the same row in the same
    campaign always gets the same key.
    """

    to: str
    from_: str
    agent_key: str
    metadata: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    key: str | None = None


def row_key(row: CallRow) -> str:
    """The row's stable key: ``row.key``, or 32 hex digits hashing its content.

    The hash covers ``to``, ``from_``, ``agent_key`` and ``metadata`` as
    canonical JSON (sorted keys), so dict order does not change it.
    """
    if row.key is not None:
        return check.short_text("key", row.key, max_len=256)
    content = [row.to, row.from_, row.agent_key, row.metadata]
    try:
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRowError("metadata", f"must be JSON-serialisable ({exc})") from None
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def campaign_idempotency_key(campaign_id: str, key: str) -> str:
    """The ``Idempotency-Key`` for row ``key`` of ``campaign_id``: deterministic.

    A hash (``vacmp1_`` + 40 hex digits), so any campaign id and row key --
    spaces, Unicode, any length -- give a key within the API's rules (1 to
    255 printable ASCII characters), and two campaigns never share a key.
    """
    check.short_text("campaign_id", campaign_id)
    check.short_text("key", key, max_len=256)
    digest = hashlib.blake2b(digest_size=20)
    digest.update(campaign_id.encode())
    digest.update(b"\x00")
    digest.update(key.encode())
    return IDEMPOTENCY_PREFIX + digest.hexdigest()


class InvalidRowError(InvalidRequestError):
    """A row that cannot be sent as given (reported as that row's failure)."""


@attrs.frozen
class CampaignResult:
    """What happened to one row.

    ``outcome``: ``"placed"`` (``session_id`` is the call), ``"failed"``
    (``error`` says why), or ``"skipped_done"`` (the journal already had a
    final outcome for this row: nothing was sent).  ``attempts`` counts the
    HTTP requests made for the row in this run.  With ``follow=True``,
    ``status`` and ``duration_seconds`` are the call's final values.
    """

    key: str
    outcome: Outcome
    session_id: str | None = None
    error: VoiceError | None = attrs.field(default=None, eq=False)
    attempts: int = 0
    status: str | None = None
    duration_seconds: float | None = None
    row: CallRow | None = attrs.field(default=None, eq=False, repr=False)


class Action(enum.Enum):
    """What to do after one failed attempt."""

    THROTTLE = "throttle"  #: 429: slow the whole campaign, then try the row again
    RETRY = "retry"  #: transient: back off, try again (within the retry budget)
    FAIL_ROW = "fail_row"  #: the row itself was refused: record it, go on
    STOP = "stop"  #: the credentials were refused: record the row, stop everything


def classify(exc: BaseException) -> Action:
    """The decision for one failed attempt (see :class:`Action`)."""
    if isinstance(exc, RateLimitError):
        return Action.THROTTLE
    if isinstance(exc, (AuthenticationError, PermissionDeniedError, ConfigurationError)):
        return Action.STOP
    if isinstance(exc, APIStatusError):
        return Action.RETRY if is_retryable_status(exc.status, exc.error_type) else Action.FAIL_ROW
    if isinstance(exc, (APIConnectionError, APIResponseValidationError)):
        return Action.RETRY
    return Action.FAIL_ROW


# -- the journal's line format -------------------------------------------------

JOURNAL_KIND = "voice_async.campaign"
JOURNAL_VERSION = 1


def header_line(campaign_id: str) -> dict[str, Any]:
    """The first line of a journal: which campaign it belongs to."""
    return {"journal": JOURNAL_KIND, "version": JOURNAL_VERSION, "campaign_id": campaign_id}


def error_record(error: VoiceError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    record: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, APIStatusError):
        record["status"] = error.status
    return record


def entry_line(result: CampaignResult) -> dict[str, Any]:
    """One journal line for a final outcome (``skipped_done`` is never journaled)."""
    line: dict[str, Any] = {
        "key": result.key,
        "outcome": result.outcome,
        "session_id": result.session_id,
        "error": error_record(result.error),
        "attempts": result.attempts,
    }
    if result.status is not None:
        line["status"] = result.status
        line["duration_seconds"] = result.duration_seconds
    return line


# -- the summary ----------------------------------------------------------------


@attrs.define
class CampaignSummary:
    """Counts over a campaign's results (live during a run, or from a journal).

    ``failed_by_error`` maps an error type name to its count; ``completed`` and
    ``average_duration`` are filled only for followed calls.
    """

    placed: int = 0
    failed: int = 0
    skipped_done: int = 0
    failed_by_error: Counter[str] = attrs.field(factory=Counter)
    statuses: Counter[str] = attrs.field(factory=Counter)
    attempts: int = 0
    _duration_total: float = 0.0
    _durations: int = 0

    @property
    def total(self) -> int:
        return self.placed + self.failed + self.skipped_done

    @property
    def completed(self) -> int:
        return self.statuses["completed"]

    @property
    def average_duration(self) -> float | None:
        return self._duration_total / self._durations if self._durations else None

    def add(self, result: CampaignResult) -> None:
        self._count(result.outcome, None if result.error is None else type(result.error).__name__)
        self.attempts += result.attempts
        self._follow(result.status, result.duration_seconds)

    def add_line(self, line: Mapping[str, Any]) -> None:
        """Count one journal entry (as written by :func:`entry_line`)."""
        error = line.get("error")
        self._count(line.get("outcome"), error.get("type") if isinstance(error, dict) else None)
        self.attempts += int(line.get("attempts") or 0)
        self._follow(line.get("status"), line.get("duration_seconds"))

    def _count(self, outcome: object, error_type: str | None) -> None:
        if outcome == "placed":
            self.placed += 1
        elif outcome == "failed":
            self.failed += 1
            self.failed_by_error[error_type or "unknown"] += 1
        elif outcome == "skipped_done":
            self.skipped_done += 1

    def _follow(self, status: object, duration: object) -> None:
        if isinstance(status, str):
            self.statuses[status] += 1
        if isinstance(duration, (int, float)) and not isinstance(duration, bool):
            self._duration_total += float(duration)
            self._durations += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "placed": self.placed,
            "failed": self.failed,
            "skipped_done": self.skipped_done,
            "failed_by_error": dict(self.failed_by_error),
            "completed": self.completed,
            "statuses": dict(self.statuses),
            "average_duration": self.average_duration,
            "attempts": self.attempts,
        }
