"""Property tests: server values drawn from the extremes never escape as raw errors.

``sessions.iter()`` and the live-events core do arithmetic on what the server
sends (dates for the snapshot pin, totals and offsets for planning, seqs and
``Retry-After`` for reconnecting).  Whatever those values are -- huge or
negative ints, NaN, infinity, the first and last representable dates -- a
public call ends with its result or a :class:`VoiceError`, after a bounded
number of requests.
"""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voice_async import VoiceError
from voice_async._events_core import Reconnector, SeqTracker, Verdict, decode_event
from voice_async._pagination import SessionIterator
from voice_async._paths import SessionFilters
from voice_async._retry import RetryPolicy

from ._ws_servers import event, session

EXTREME_INTS = st.one_of(
    st.integers(-(2**70), 2**70),
    # 4,000 digits: longer ones never get here, json.loads refuses them (a
    # ValueError the transport turns into APIResponseValidationError)
    st.sampled_from([0, -1, 2**63, -(2**63), 10**4000, -(10**4000)]),
)
EXTREME_NUMBERS = st.one_of(
    EXTREME_INTS, st.floats(allow_nan=True, allow_infinity=True), st.none(), st.text(max_size=5)
)
EXTREME_DATES = st.sampled_from(
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31T22:00:00-05:00",
        "0001-01-01T00:00:00Z",
        "0001-01-01T03:00:00+05:00",
        "2026-11-25T15:00:00Z",
    ]
)
MAX_REQUESTS = 400  # far above what a terminating iteration needs here


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    newest = draw(EXTREME_DATES)
    rows = [session(0, created_at=newest)] + [
        session(i) for i in range(1, draw(st.integers(1, 12)))
    ]
    keys = draw(st.sets(st.sampled_from(["total", "has_more", "limit", "offset"])))
    values = {
        "total": EXTREME_NUMBERS,
        "has_more": st.one_of(st.booleans(), EXTREME_NUMBERS),
        "limit": EXTREME_NUMBERS,
        "offset": EXTREME_NUMBERS,
    }
    return {"data": rows, **{k: draw(values[k]) for k in keys}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=envelopes(), honour_offset=st.booleans(), concurrency=st.sampled_from([1, 3]))
def test_iter_ends_on_any_envelope(
    page: dict[str, Any], honour_offset: bool, concurrency: int
) -> None:
    requests = 0

    async def fetch(filters: SessionFilters, *, limit: int, offset: int) -> Any:
        nonlocal requests
        requests += 1
        assert requests <= MAX_REQUESTS, "the iterator does not terminate"
        rows = page["data"][offset:] if honour_offset else page["data"]
        return {**page, "data": rows[:limit], "offset": page.get("offset", offset)}

    async def run() -> object:
        iterator = SessionIterator(fetch, SessionFilters(), limit=5, concurrency=concurrency)
        try:
            async with iterator:
                return [s.id async for s in iterator]
        except VoiceError as exc:
            return exc

    result = asyncio.run(asyncio.wait_for(run(), 10))
    if isinstance(result, list):
        assert len(result) == len(set(result))  # never a duplicate


SEQ_TEXTS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["9" * 5000, "-" + "9" * 5000, "1e999", "NaN", "Infinity", "1.5", "null"]),
)


@settings(max_examples=150, deadline=None)
@given(seq=SEQ_TEXTS, ts=EXTREME_DATES, last=st.integers(0, 2**64))
def test_seq_and_dates_of_events(seq: str, ts: str, last: int) -> None:
    frame = event(1).replace('"seq": 1', f'"seq": {seq}').replace("2026-11-25T15:30:09.120Z", ts)
    try:
        decoded = decode_event(frame)
    except VoiceError:
        return
    tracker = SeqTracker(last)
    assert tracker.accept(decoded.seq) in set(Verdict)
    assert tracker.last_seq >= last


@settings(max_examples=300, deadline=None)
@given(
    retry_after=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    opened=st.floats(allow_nan=False, allow_infinity=False, width=32),
    now=st.floats(allow_nan=False, allow_infinity=False, width=32),
    code=st.one_of(st.none(), EXTREME_INTS),
    rounds=st.integers(1, 80),
)
def test_reconnect_delays_stay_finite(
    retry_after: float | None, opened: float, now: float, code: int | None, rounds: int
) -> None:
    policy = RetryPolicy(max_retries=1000, initial_backoff=0.5, max_backoff=10.0)
    reconnector = Reconnector(policy, 10.0, random.Random(1))
    for _ in range(rounds):
        reconnector.opened(opened)
        delay = reconnector.next_delay(now, delivered=1, code=code, retry_after=retry_after)
        assert delay is None or (math.isfinite(delay) and 0 <= delay <= policy.max_retry_after)
