"""R1: a thousand make_calls through a server failing 30% of requests.

Every kind of transient fault is mixed in (JSON 500/503, an HTML 502 from a
"proxy", 429 with ``Retry-After: 0``, empty 500s, truncated JSON, resets and
hangs that cost a client timeout), injected either *before* the call is
placed or *after* it (the call exists, its answer is lost: the case
idempotency keys exist for).  The promises checked at scale:

* each ``make_call`` returns a ``Call`` or raises a typed ``VoiceError``;
* no call is ever placed twice, whatever was retried;
* ``before``: a call the caller saw fail was never placed;
  ``after``: each logical call was placed exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from voice_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    Call,
    ConflictError,
    Timeout,
    VoiceError,
)
from voice_async.testing import Emulator, FaultKind

from .conftest import CALL, client_for

CALLS = 1_000
CONCURRENCY = 50
FAIL_RATE = 0.3
ALL_KINDS = [kind.value for kind in FaultKind]
#: What may reach the caller after retries are exhausted -- nothing else.
TYPED_FAILURES = (APIStatusError, APIConnectionError, APIResponseValidationError)


async def _place_all(emu: Emulator) -> list[Call | BaseException]:
    # Short per-attempt timeout: a "hang" costs one timeout, not a test run.
    client = client_for(emu, timeout=Timeout(total=0.75, connect=0.75))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> Call:
        async with gate:
            return await client.make_call(**CALL)

    async with client:
        return await asyncio.gather(*(one() for _ in range(CALLS)), return_exceptions=True)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_thousand_calls_under_faults(emu: Emulator, when: str) -> None:
    emu.faults.fail_rate(FAIL_RATE, kinds=ALL_KINDS, route="make_call", seed=5, when=when)
    started = time.monotonic()
    results = await _place_all(emu)
    elapsed = time.monotonic() - started

    calls = [r for r in results if isinstance(r, Call)]
    errors = [r for r in results if not isinstance(r, Call)]
    untyped = [e for e in errors if not isinstance(e, VoiceError)]
    assert untyped == [], f"raw exceptions reached the caller: {untyped[:3]!r}"
    assert all(isinstance(e, TYPED_FAILURES) for e in errors), Counter(map(type, errors))
    # A 409 may only mean "your retry overlapped the first attempt", never "the
    # SDK reused a key for another body".
    conflicts = [e for e in errors if isinstance(e, ConflictError)]
    assert all(e.error_type == "idempotency_in_progress" for e in conflicts)

    ids = [c.session_id for c in calls]
    assert len(set(ids)) == len(ids), "two make_calls got the same session"
    if when == "before":
        # Every success was placed once.  A call can also be placed and its
        # answer lost to the client's own timeout (a loaded machine, the
        # retries then exhausted): placed once, reported as a timeout or
        # connection error -- never placed twice.
        ambiguous = [e for e in errors if isinstance(e, APIConnectionError)]
        assert len(calls) <= emu.stats.calls_placed <= len(calls) + len(ambiguous)
    else:
        assert emu.stats.calls_placed == CALLS
        assert emu.stats.idempotent_replays > 0
    assert all(emu.session(i) is not None for i in ids)

    # The run really was hostile: every kind was injected, retries happened,
    # and some calls still failed after their retries.
    assert set(emu.stats.faults_injected) == set(ALL_KINDS)
    assert emu.stats.requests["make_call"] > CALLS * 1.3
    assert 0 < len(errors) < CALLS * 0.1
    assert elapsed < 30
