"""Sharded campaigns on real arq workers: every row dialled once, one global rate."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis

from voice_async import AsyncVoiceClient, CallRow, CampaignResult, InvalidRequestError
from voice_async.contrib._redis_campaign import (
    RECORD_BATCH,
    CampaignStateLostError,
    _Recorder,
    campaign_status,
    run_shard,
    store_rows,
)
from voice_async.contrib.arq import EnqueuedJobs, JobError, enqueue_campaign

from ._procs import RedisServer, Workers


def rows(n: int, start: int = 0) -> Iterator[CallRow]:
    for i in range(start, start + n):
        yield CallRow(
            to=f"+1555{i:07d}",
            from_="+15555550100",
            agent_key="appointments",
            metadata={"n": i},
            key=f"row-{i}",
        )


async def shard_keys(redis: ArqRedis, campaign_id: str, shard: int) -> set[str]:
    raw = await redis.lrange(f"voice_async:campaign:{campaign_id}:rows:{shard}", 0, -1)
    return {json.loads(item)["key"] for item in raw}


async def session_ids(redis: ArqRedis, campaign_id: str, shards: int) -> list[str]:
    ids = []
    for shard in range(shards):
        results = await redis.hgetall(f"voice_async:campaign:{campaign_id}:results:{shard}")
        ids += [json.loads(v)["session_id"] for v in results.values()]
    return ids


async def wait_until(predicate: Callable[[], Any], timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_rows_go_to_the_same_shard_whatever_their_order(arq_redis: ArqRedis) -> None:
    forward = await store_rows(arq_redis, "forward", rows(1_000), shards=3)
    backward = await store_rows(arq_redis, "backward", reversed(list(rows(1_000))), shards=3)
    assert forward.rows == backward.rows == 1_000
    seen: set[str] = set()
    for shard in range(3):
        keys = await shard_keys(arq_redis, "forward", shard)
        assert keys == await shard_keys(arq_redis, "backward", shard)
        assert 250 < len(keys) < 420 and not keys & seen
        seen |= keys
    assert len(seen) == 1_000


async def test_storing_is_idempotent_and_drops_repeated_keys(arq_redis: ArqRedis) -> None:
    plan = await store_rows(arq_redis, "c", [*rows(10), *rows(5)], shards=2)
    assert (plan.rows, plan.duplicates, plan.stored_now) == (10, 5, True)
    again = await store_rows(arq_redis, "c", rows(10), shards=2)
    assert (again.rows, again.stored_now) == (10, False)
    with pytest.raises(InvalidRequestError, match="stored with 2 shards, not 3"):
        await store_rows(arq_redis, "c", rows(10), shards=3)
    status = await campaign_status(arq_redis, "c")
    assert (status.rows, status.pending, status.done) == (10, 10, False)


@pytest.mark.voice_emulator(rate_limit=130)
async def test_four_shards_three_workers_every_row_once_within_the_rate(
    emulator: Any, arq_redis: ArqRedis, workers: Callable[..., Workers]
) -> None:
    workers(3, VOICE_ASYNC_JOB_TIMEOUT="120")
    jobs = await enqueue_campaign(
        arq_redis, rows(500), campaign_id="spring", shards=4, rate=100, concurrency=8
    )
    results = await jobs.wait(timeout=120)
    assert sum(r["placed"] for r in results) == 500
    assert emulator.stats.calls_placed == 500
    # One bucket for all workers: burst (10) + 100/s in any emulator second.
    assert emulator.limits.max_accepted_per_second <= 110, emulator.limits.accepted_per_second
    assert sum(emulator.limits.rejected.values()) == 0
    status = await campaign_status(arq_redis, "spring")
    assert (status.placed, status.failed, status.pending) == (500, 0, 0)
    assert sorted(s["rows"] for s in status.shards) == sorted(s["placed"] for s in status.shards)
    ids = await session_ids(arq_redis, "spring", 4)
    assert len(set(ids)) == 500


@pytest.mark.voice_emulator(rate_limit=40)
async def test_429s_from_the_tenant_limit_slow_every_worker_and_fail_no_row(
    emulator: Any, arq_redis: ArqRedis, workers: Callable[..., Workers]
) -> None:
    # A shard lasts rows / 40 s here: give the jobs the time (arq fails a job
    # that outlives its timeout, it does not retry it).
    workers(2, VOICE_ASYNC_JOB_TIMEOUT="120")
    jobs = await enqueue_campaign(
        arq_redis, rows(160), campaign_id="eager", shards=2, rate=80, concurrency=8
    )
    await jobs.wait(timeout=120)
    status = await campaign_status(arq_redis, "eager")
    assert (status.placed, status.failed) == (160, 0)
    assert emulator.stats.calls_placed == 160
    assert emulator.limits.rejected["rate_limited"] > 0  # the limit was really hit


async def campaign_under_way(arq_redis: ArqRedis, campaign_id: str) -> EnqueuedJobs:
    """600 rows in 2 shards at 200/s, returned once 120 are placed: time to break something."""
    jobs = await enqueue_campaign(
        arq_redis, rows(600), campaign_id=campaign_id, shards=2, rate=200, concurrency=8
    )

    async def some_placed() -> bool:
        return (await campaign_status(arq_redis, campaign_id)).placed >= 120

    await wait_until(some_placed)
    return jobs


@pytest.mark.voice_emulator(rate_limit=1_000)
async def test_worker_killed_mid_shard_arq_reruns_it_no_row_twice_none_lost(
    emulator: Any, arq_redis: ArqRedis, workers: Callable[..., Workers]
) -> None:
    first = workers(1)
    jobs = await campaign_under_way(arq_redis, "killed")
    first.kill(first.procs[0])  # mid-shard: calls in flight, outcomes unrecorded
    placed_at_kill = emulator.stats.calls_placed
    assert placed_at_kill < 600
    workers(2)
    await jobs.wait(timeout=120)
    status = await campaign_status(arq_redis, "killed")
    assert (status.placed, status.failed, status.pending) == (600, 0, 0)
    assert emulator.stats.calls_placed == 600  # none dialled twice, none lost
    assert len(set(await session_ids(arq_redis, "killed", 2))) == 600
    tries = [await job.result_info() for job in jobs.jobs]
    assert all(info is not None and info.job_try >= 2 for info in tries)


@pytest.mark.voice_emulator(rate_limit=1_000)
async def test_redis_restart_mid_campaign_resumes_without_losing_rows(
    emulator: Any,
    arq_redis: ArqRedis,
    redis_server: RedisServer,
    workers: Callable[..., Workers],
) -> None:
    pool = workers(2)
    jobs = await campaign_under_way(arq_redis, "restart")
    supervisor = asyncio.ensure_future(pool.supervise(2))
    try:
        await asyncio.to_thread(redis_server.restart)  # AOF: acknowledged writes survive
        await jobs.wait(timeout=120)
    finally:
        supervisor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervisor
    assert redis_server.starts == 2
    status = await campaign_status(arq_redis, "restart")
    assert (status.placed, status.failed, status.pending) == (600, 0, 0)
    assert emulator.stats.calls_placed == 600


async def test_lost_redis_data_fails_loudly(arq_redis: ArqRedis, client: AsyncVoiceClient) -> None:
    await store_rows(arq_redis, "gone", rows(20), shards=2)
    await arq_redis.flushall()  # what a Redis without persistence does on restart
    with pytest.raises(CampaignStateLostError, match="has no rows in Redis"):
        await run_shard(client, arq_redis, "gone", 0)
    with pytest.raises(CampaignStateLostError):
        await campaign_status(arq_redis, "gone")


async def test_outcomes_being_written_when_the_shard_ends_are_not_lost(
    arq_redis: ArqRedis, redis_server: RedisServer
) -> None:
    """The batch in flight when the run ends is awaited, never abandoned."""
    other = Redis.from_url(redis_server.url)
    try:
        async with _Recorder(arq_redis, "ending", 0) as recorder:
            await other.execute_command("CLIENT", "PAUSE", "300", "WRITE")
            for i in range(RECORD_BATCH + 50):
                recorder.add(CampaignResult(f"k{i}", "placed", session_id=f"vs_{i}", attempts=1))
            await asyncio.sleep(0.1)  # the writer is now blocked inside its script call
    finally:
        await other.aclose()
    recorded = await arq_redis.hgetall("voice_async:campaign:ending:results:0")
    assert len(recorded) == RECORD_BATCH + 50
    counts = await arq_redis.hgetall("voice_async:campaign:ending:counts:0")
    assert counts == {b"placed": str(RECORD_BATCH + 50).encode()}


async def test_refused_credentials_fail_the_shard_job_loudly(
    emulator: Any, arq_redis: ArqRedis, workers: Callable[..., Workers]
) -> None:
    workers(1, STATESET_VOICE_API_KEY="sk_test_not_the_right_key_0000")
    jobs = await enqueue_campaign(arq_redis, rows(5), campaign_id="refused", shards=1)
    with pytest.raises(JobError) as caught:
        await jobs.wait(timeout=60)
    assert (caught.value.error_type, caught.value.status) == ("AuthenticationError", 401)
    assert "not_the_right_key" not in str(caught.value)  # no secret in the error
    status = await campaign_status(arq_redis, "refused")
    assert (status.placed, status.failed, status.pending) == (0, 1, 4)
    assert emulator.stats.calls_placed == 0
