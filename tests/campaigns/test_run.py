"""client.campaigns.run end to end against the emulator on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from voice_async import (
    AsyncVoiceClient,
    AuthenticationError,
    BadRequestError,
    CallRow,
    CampaignResult,
    InvalidRequestError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from voice_async.testing import Emulator

from ._server import Decide, MakeCallServer
from .conftest import FROM, client_for, journal_entries, rows


async def test_every_row_is_placed_once_with_its_own_session(
    voice_emulator: Emulator, voice_client: AsyncVoiceClient
) -> None:
    results = [r async for r in voice_client.campaigns.run(rows(25), campaign_id="c1")]
    assert sorted(r.key for r in results) == sorted(f"row-{i}" for i in range(25))
    assert {r.outcome for r in results} == {"placed"}
    assert len({r.session_id for r in results}) == 25
    assert voice_emulator.stats.calls_placed == 25
    placed = voice_emulator.session(results[0].session_id or "")
    assert placed is not None and placed["to"] == results[0].row.to  # type: ignore[union-attr]


async def test_async_iterable_input(
    voice_emulator: Emulator, voice_client: AsyncVoiceClient
) -> None:
    async def source():  # type: ignore[no-untyped-def]
        for row in rows(5):
            yield row

    results = [r async for r in voice_client.campaigns.run(source(), campaign_id="c1")]
    assert len(results) == 5 and voice_emulator.stats.calls_placed == 5


async def test_a_rerun_without_journal_dials_nothing_twice(
    voice_emulator: Emulator, voice_client: AsyncVoiceClient
) -> None:
    first = {
        r.key: r.session_id async for r in voice_client.campaigns.run(rows(10), campaign_id="c")
    }
    again = {
        r.key: r.session_id async for r in voice_client.campaigns.run(rows(10), campaign_id="c")
    }
    assert first == again  # the server answered every row with the call it placed
    assert voice_emulator.stats.calls_placed == 10
    other = [r async for r in voice_client.campaigns.run(rows(10), campaign_id="other")]
    assert len(other) == 10 and voice_emulator.stats.calls_placed == 20


async def test_bad_arguments_fail_before_anything_is_sent(
    voice_emulator: Emulator, voice_client: AsyncVoiceClient
) -> None:
    from voice_async import AdaptiveRateLimiter

    with pytest.raises(InvalidRequestError, match="rate"):
        voice_client.campaigns.run(rows(1), campaign_id="c", rate=5, limiter=AdaptiveRateLimiter())
    with pytest.raises(InvalidRequestError, match="concurrency"):
        voice_client.campaigns.run(rows(1), campaign_id="c", concurrency=0)
    with pytest.raises(InvalidRequestError, match="campaign_id"):
        voice_client.campaigns.run(rows(1), campaign_id="")
    with pytest.raises(InvalidRequestError, match="rate"):
        voice_client.campaigns.run(rows(1), campaign_id="c", rate=-1)
    assert voice_emulator.stats.requests["make_call"] == 0


async def test_row_level_refusals_fail_the_row_and_the_campaign_goes_on(
    voice_emulator: Emulator, voice_client: AsyncVoiceClient, tmp_path: Path
) -> None:
    bad = [
        CallRow("12345", FROM, "support_primary", key="bad-number"),  # caught locally
        CallRow("+15555550111", FROM, "unknown_agent", key="unknown-agent"),  # 422
        CallRow("+15555550112", FROM, "support_primary", {"x": "y" * 20000}, key="big"),
    ]
    journal = tmp_path / "run.jsonl"
    run = voice_client.campaigns.run(
        [*rows(3), *bad, *rows(3, start=3)], campaign_id="c", journal=journal
    )
    results = {r.key: r async for r in run}
    assert [k for k, r in results.items() if r.outcome == "placed"] == [
        k for k in results if k.startswith("row-")
    ]
    assert len(results) == 9 and voice_emulator.stats.calls_placed == 6
    assert isinstance(results["bad-number"].error, InvalidRequestError)
    assert results["bad-number"].attempts == 0
    assert isinstance(results["unknown-agent"].error, UnprocessableEntityError)
    assert results["unknown-agent"].attempts == 1  # not retried
    assert isinstance(results["big"].error, InvalidRequestError)
    assert run.summary.failed_by_error == {"InvalidRequestError": 2, "UnprocessableEntityError": 1}
    failed = {e["key"]: e["error"] for e in journal_entries(journal) if e["outcome"] == "failed"}
    assert failed["unknown-agent"]["type"] == "UnprocessableEntityError"
    assert failed["unknown-agent"]["status"] == 422


async def test_a_transient_failure_is_retried_and_counted(voice_emulator: Emulator) -> None:
    voice_emulator.faults.script("500", "reset", route="make_call", when="after")
    async with client_for(voice_emulator) as client:
        results = [r async for r in client.campaigns.run(rows(1), campaign_id="c")]
    assert results[0].outcome == "placed" and results[0].attempts == 3
    assert voice_emulator.stats.calls_placed == 1


def _fail(numbers: set[int], status: int, error_type: str) -> Decide:
    def decide(number: int, body: dict[str, Any]) -> tuple[int, str | None, dict[str, str]]:
        return (status, error_type, {}) if number in numbers else (201, None, {})

    return decide


async def test_a_server_side_400_fails_the_row_only(tmp_path: Path) -> None:
    async with (
        MakeCallServer(_fail({2}, 400, "invalid_request")) as server,
        AsyncVoiceClient(api_key="sk_test_x", base_url=server.base_url) as client,
    ):
        results = [r async for r in client.campaigns.run(rows(5), campaign_id="c", concurrency=1)]
    assert [r.outcome for r in results] == ["placed", "failed", "placed", "placed", "placed"]
    assert isinstance(results[1].error, BadRequestError) and results[1].attempts == 1
    assert server.requests == 5


async def test_unknown_credentials_stop_the_campaign(
    voice_emulator: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    async with client_for(voice_emulator) as good:
        done = [r async for r in good.campaigns.run(rows(3), campaign_id="c", journal=journal)]
    assert len(done) == 3
    seen: list[CampaignResult] = []
    async with AsyncVoiceClient(
        api_key="sk_wrong_key_0000", base_url=voice_emulator.base_url
    ) as bad:
        with pytest.raises(AuthenticationError):
            async for result in bad.campaigns.run(
                rows(50), campaign_id="c", journal=journal, concurrency=1
            ):
                seen.append(result)
    assert [r.outcome for r in seen] == ["skipped_done"] * 3 + ["failed"]
    assert isinstance(seen[-1].error, AuthenticationError)
    failed = [e for e in journal_entries(journal) if e["outcome"] == "failed"]
    assert [(e["key"], e["error"]["status"]) for e in failed] == [("row-3", 401)]
    assert voice_emulator.stats.requests["make_call"] == 3 + 1  # nothing after the refusal


async def test_forbidden_stops_the_campaign_and_sends_nothing_more(tmp_path: Path) -> None:
    async with (
        MakeCallServer(_fail({3}, 403, "permission_error")) as server,
        AsyncVoiceClient(api_key="sk_test_x", base_url=server.base_url) as client,
    ):
        seen: list[CampaignResult] = []
        with pytest.raises(PermissionDeniedError):
            async for result in client.campaigns.run(
                rows(20), campaign_id="c", concurrency=1, journal=tmp_path / "j.jsonl"
            ):
                seen.append(result)
    assert [r.outcome for r in seen] == ["placed", "placed", "failed"]
    assert server.requests == 3
    assert [e["outcome"] for e in journal_entries(tmp_path / "j.jsonl")] == [
        "placed",
        "placed",
        "failed",
    ]


async def test_concurrency_is_respected_exactly() -> None:
    async with (
        MakeCallServer(latency=0.02) as server,
        AsyncVoiceClient(api_key="sk_test_x", base_url=server.base_url) as client,
    ):
        results = [r async for r in client.campaigns.run(rows(60), campaign_id="c", concurrency=7)]
    assert len(results) == 60 and len(server.placed) == 60
    assert server.max_in_flight == 7


async def test_a_429_without_retry_after_is_absorbed_with_max_retries_0() -> None:
    limited = {2, 3}
    async with (
        MakeCallServer(_fail(limited, 429, "rate_limited")) as server,
        AsyncVoiceClient(api_key="sk_test_x", base_url=server.base_url, max_retries=0) as client,
    ):
        run = client.campaigns.run(rows(6), campaign_id="c", concurrency=1)
        results = [r async for r in run]
    assert {r.outcome for r in results} == {"placed"} and len(server.placed) == 6
    assert sum(r.attempts for r in results) == 6 + len(limited)
    assert run.limiter.rate is not None  # the campaign slowed down


async def test_a_failing_row_source_surfaces_after_the_rows_before_it(
    voice_emulator: Emulator, voice_client: AsyncVoiceClient
) -> None:
    def source():  # type: ignore[no-untyped-def]
        yield from rows(3)
        yield "not a row"
        raise OSError("disk gone")

    seen: list[CampaignResult] = []
    with pytest.raises(OSError, match="disk gone"):
        async for result in voice_client.campaigns.run(source(), campaign_id="c", concurrency=1):
            seen.append(result)
    assert [r.outcome for r in seen] == ["placed"] * 3 + ["failed"]
    assert isinstance(seen[-1].error, InvalidRequestError) and seen[-1].key == "row-4"


async def test_a_stop_reaches_a_slow_consumer_after_a_full_queue() -> None:
    """The refusal arrives while the result queue is full: nothing hangs or is lost."""
    async with (
        MakeCallServer(_fail({21}, 401, "authentication_error")) as server,
        AsyncVoiceClient(api_key="sk_test_x", base_url=server.base_url) as client,
    ):
        run = client.campaigns.run(rows(100), campaign_id="c", concurrency=20)

        async def slow_reader() -> list[CampaignResult]:
            seen = [await run.__anext__()]
            await asyncio.sleep(0.5)  # the workers fill the queue meanwhile
            async for result in run:
                seen.append(result)
            return seen

        with pytest.raises(AuthenticationError):
            await asyncio.wait_for(slow_reader(), 20)
    assert run.summary.failed == 1
    assert server.requests <= 40  # at most the requests in flight when it stopped
