"""The sans-I/O rules: keys, idempotency keys, error decisions, the bucket, the summary."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voice_async import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    CallRow,
    CampaignResult,
    CampaignSummary,
    ConflictError,
    InternalServerError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    campaign_idempotency_key,
    row_key,
)
from voice_async._campaign_core import Action, classify
from voice_async._campaign_limit import AdaptiveBucket

KEY_RULES = re.compile(r"[\x21-\x7e]{1,255}")


def test_row_key_is_stable_and_ignores_metadata_order() -> None:
    a = CallRow("+15555550123", "+15555550100", "agent", {"x": 1, "y": [1, 2]})
    b = CallRow("+15555550123", "+15555550100", "agent", {"y": [1, 2], "x": 1})
    assert row_key(a) == row_key(b)
    assert re.fullmatch(r"[0-9a-f]{32}", row_key(a))
    assert row_key(CallRow("+15555550124", "+15555550100", "agent")) != row_key(a)
    assert row_key(CallRow("+15555550123", "+15555550100", "agent", key="order-7")) == "order-7"


def test_row_key_refuses_unserialisable_metadata() -> None:
    with pytest.raises(InvalidRequestError, match="metadata"):
        row_key(CallRow("+15555550123", "+15555550100", "agent", {"x": object()}))


@given(st.text(min_size=1, max_size=256), st.text(min_size=1, max_size=256))
def test_idempotency_key_is_deterministic_and_within_the_api_rules(cid: str, key: str) -> None:
    derived = campaign_idempotency_key(cid, key)
    assert derived == campaign_idempotency_key(cid, key)
    assert KEY_RULES.fullmatch(derived)


def test_idempotency_keys_differ_between_campaigns_and_rows() -> None:
    keys = {campaign_idempotency_key(c, k) for c in ("a", "b", "a\x00") for k in ("1", "2", "")[:2]}
    assert len(keys) == 6
    assert campaign_idempotency_key("ab", "c") != campaign_idempotency_key("a", "bc")


def _status(cls: type, status: int, error_type: str | None = None) -> Exception:
    return cls("x", status=status, error_type=error_type)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("error", "action"),
    [
        (_status(RateLimitError, 429), Action.THROTTLE),
        (_status(RateLimitError, 429, "concurrency_limit"), Action.THROTTLE),
        (_status(AuthenticationError, 401), Action.STOP),
        (_status(PermissionDeniedError, 403), Action.STOP),
        (_status(BadRequestError, 400), Action.FAIL_ROW),
        (_status(UnprocessableEntityError, 422), Action.FAIL_ROW),
        (_status(ConflictError, 409, "idempotency_conflict"), Action.FAIL_ROW),
        (_status(ConflictError, 409, "idempotency_in_progress"), Action.RETRY),
        (_status(InternalServerError, 503), Action.RETRY),
        (APIConnectionError("reset"), Action.RETRY),
    ],
)
def test_each_failure_has_one_decision(error: Exception, action: Action) -> None:
    assert classify(error) is action


def _sent_in(bucket: AdaptiveBucket, start: float, stop: float, step: float = 0.001) -> int:
    """Greedy sender: how many calls the bucket lets through in [start, stop)."""
    sent, now = 0, start
    while now < stop:
        if bucket.delay(now) == 0:
            bucket.take(now)
            sent += 1
        else:
            now += step
    return sent


def test_bucket_sends_rate_plus_burst_in_any_second() -> None:
    bucket = AdaptiveBucket(50.0, now=0.0)
    assert bucket.burst == 5.0
    assert _sent_in(bucket, 0.0, 1.0) <= 50 + 5
    assert 49 <= _sent_in(bucket, 1.0, 2.0) <= 51


def test_bucket_burst_is_capped_at_one_second() -> None:
    with pytest.raises(InvalidRequestError):
        AdaptiveBucket(10.0, burst=11.0)
    with pytest.raises(InvalidRequestError):
        AdaptiveBucket(0.0)


def test_a_429_pauses_everyone_and_cuts_the_rate_once_per_episode() -> None:
    bucket = AdaptiveBucket(100.0, now=0.0)
    bucket.throttled(0.25, now=1.0)
    assert bucket.delay(1.0) == pytest.approx(0.25)
    assert bucket.rate == pytest.approx(90.0)
    bucket.throttled(0.25, now=1.01)  # another in-flight call of the same window
    assert bucket.rate == pytest.approx(90.0)
    bucket.throttled(0.25, now=3.0)  # a new episode
    assert bucket.rate == pytest.approx(81.0)


def test_recovery_is_gradual_and_capped_at_the_configured_rate() -> None:
    bucket = AdaptiveBucket(100.0, now=0.0)
    bucket.throttled(None, now=0.0)
    assert bucket.rate == pytest.approx(90.0)
    bucket.succeeded(1.0)
    assert bucket.rate == pytest.approx(90.1)
    for _ in range(1000):
        bucket.succeeded(2.0)
    assert bucket.rate == 100.0


def test_without_retry_after_the_pause_grows_until_a_success() -> None:
    bucket = AdaptiveBucket(None, now=0.0)
    pauses = []
    for now in (0.0, 10.0, 20.0, 30.0, 40.0, 50.0):
        bucket.throttled(None, now)
        pauses.append(bucket.delay(now))
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    bucket.succeeded(60.0)
    bucket.throttled(None, 70.0)
    assert bucket.delay(70.0) == 0.5


def test_unlimited_bucket_learns_the_accepted_rate_on_the_first_429() -> None:
    bucket = AdaptiveBucket(None, now=0.0)
    assert bucket.delay(0.0) == 0
    for i in range(200):
        bucket.succeeded(i / 200)
    bucket.throttled(0.0, now=1.0)
    assert bucket.rate == pytest.approx(200 * 0.9, rel=0.02)
    fixed_window = AdaptiveBucket(None, now=0.0)
    for i in range(30):  # 30 accepted in 50 ms, then "come back in 950 ms"
        fixed_window.succeeded(i * 0.05 / 30)
    fixed_window.throttled(0.95, now=0.05)
    assert fixed_window.rate == pytest.approx(30 * 0.9, rel=0.05)


def test_summary_counts_outcomes_errors_and_durations() -> None:
    summary = CampaignSummary()
    summary.add(
        CampaignResult("a", "placed", "vs_1", attempts=2, status="completed", duration_seconds=10)
    )
    summary.add(
        CampaignResult("b", "placed", "vs_2", attempts=1, status="no_answer", duration_seconds=0)
    )
    summary.add(CampaignResult("c", "failed", error=_status(BadRequestError, 400), attempts=1))
    summary.add(CampaignResult("d", "skipped_done"))
    assert (summary.placed, summary.failed, summary.skipped_done, summary.total) == (2, 1, 1, 4)
    assert summary.failed_by_error == {"BadRequestError": 1}
    assert summary.completed == 1
    assert summary.average_duration == 5.0
    assert summary.attempts == 4
