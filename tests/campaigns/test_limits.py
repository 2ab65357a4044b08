"""Pace: the client's bucket against a counting emulator, and the emulator's own limits."""

from __future__ import annotations

import aiohttp
import pytest

from voice_async import AdaptiveRateLimiter
from voice_async.testing import Emulator

from .conftest import client_for, rows


async def test_the_emulator_limits_calls_per_second_with_retry_after() -> None:
    async with Emulator(rate_limit=3) as emu, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        body = {"to": "+15555550123", "from": "+15555550100", "agent_key": "a"}
        answers = []
        for _ in range(8):
            async with http.post(
                emu.base_url + "/api/v1/make-call", json=body, headers=headers
            ) as resp:
                answers.append(
                    (
                        resp.status,
                        resp.headers.get("Retry-After"),
                        resp.headers.get("retry-after-ms"),
                        await resp.json(),
                    )
                )
    statuses = [a[0] for a in answers]
    assert statuses.count(201) <= 6 and 429 in statuses  # at most two windows' worth
    limited = next(a for a in answers if a[0] == 429)
    assert limited[1] == "1" and 1 <= int(limited[2]) <= 1000
    assert limited[3]["error"]["type"] == "rate_limited"
    assert emu.limits.max_accepted_per_second <= 3
    assert emu.stats.calls_placed == statuses.count(201)


async def test_the_emulator_limits_active_calls() -> None:
    async with (
        Emulator(max_active_calls=2, call_duration=(30.0, 30.0)) as emu,
        aiohttp.ClientSession() as http,
    ):
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        body = {"to": "+15555550123", "from": "+15555550100", "agent_key": "a"}
        statuses, types = [], []
        for _ in range(3):
            async with http.post(
                emu.base_url + "/api/v1/make-call", json=body, headers=headers
            ) as resp:
                statuses.append(resp.status)
                types.append((await resp.json()).get("error", {}).get("type"))
        assert statuses == [201, 201, 429] and types[2] == "concurrency_limit"
        assert emu.limits.active_calls == 2


async def test_defaults_are_unchanged() -> None:
    async with Emulator() as emu:
        assert (emu.limits.rate_limit, emu.limits.max_active_calls) == (None, None)
    with pytest.raises(ValueError, match="rate_limit"):
        Emulator(rate_limit=0)


@pytest.mark.parametrize("rate", [40.0])
async def test_the_campaign_never_exceeds_rate_plus_burst(rate: float) -> None:
    async with Emulator() as emu, client_for(emu) as client:
        run = client.campaigns.run(rows(100), campaign_id="c", rate=rate, concurrency=20)
        results = [r async for r in run]
        burst = AdaptiveRateLimiter(rate).bucket.burst
        per_second = emu.limits.accepted_per_second
    assert len(results) == 100 and emu.stats.calls_placed == 100
    assert max(per_second.values()) <= rate + burst, per_second
    assert len(per_second) >= 3  # 100 calls at 40/s cannot fit in two windows


@pytest.mark.parametrize("max_retries", [0, 2])
async def test_the_tenant_limit_is_absorbed_without_failing_rows(max_retries: int) -> None:
    async with Emulator(rate_limit=30) as emu, client_for(emu, max_retries=max_retries) as client:
        run = client.campaigns.run(rows(90), campaign_id="c", concurrency=10)
        results = [r async for r in run]
    assert {r.outcome for r in results} == {"placed"} and len(results) == 90
    assert emu.stats.calls_placed == 90
    assert emu.limits.rejected["rate_limited"] > 0  # the limit was hit, and absorbed
    assert emu.limits.max_accepted_per_second <= 30
    # It learnt the pace instead of hammering: few 429s, a rate near the limit.
    assert emu.limits.rejected["rate_limited"] < 30
    assert run.limiter.rate is not None and run.limiter.rate < 2 * 30


async def test_concurrency_limit_429s_are_absorbed_too() -> None:
    async with (
        Emulator(max_active_calls=3, call_duration=(0.2, 0.3)) as emu,
        client_for(emu, max_retries=0) as client,
    ):
        results = [r async for r in client.campaigns.run(rows(12), campaign_id="c")]
    assert {r.outcome for r in results} == {"placed"} and emu.stats.calls_placed == 12
    assert emu.limits.rejected["concurrency_limit"] > 0
