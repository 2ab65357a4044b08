"""A campaign sharded over workers that share one Redis (engine-neutral).

Needs the ``redis`` package, not a job engine: arq's glue calls these, and a
Celery or taskiq task would call the very same three functions.

:func:`store_rows` (the enqueuer)
    Streams the rows once: computes each row's stable key
    (``voice_async.row_key``), its shard (:func:`voice_async.contrib.shard_of`)
    and appends it to that shard's Redis list, in pipelined batches (memory
    flat for any input size).  A key seen before in the campaign is dropped
    (a key *is* a row: the server would answer it with the same call).  The
    campaign's meta hash is written last, so a crash while storing leaves no
    meta, and the next call starts over; with meta present, a second call
    stores nothing and returns the plan (re-enqueueing resumes a campaign).

:func:`run_shard` (one job per shard, any worker, re-runnable)
    Reads its shard's rows in chunks, drops those already recorded (placed;
    failed too unless ``retry_failed``), and feeds the rest to
    ``client.campaigns.run`` with a :class:`RedisRateLimiter` named after the
    campaign, so all shards share one rate.  Every outcome is recorded in the
    shard's results hash (with counters updated by one atomic script) as it
    arrives.  Exactly once: each row is always sent with the idempotency key
    derived from ``(campaign_id, row key)``, so a row whose outcome was lost
    with a killed worker is answered by the server with the call it placed.

:func:`campaign_status` (anyone)
    Sums the counters: rows, placed, failed, pending, per shard.

Redis must keep what it acknowledged (AOF, as any job queue's Redis should):
the rows and outcomes live there.  If they are gone (a Redis restarted
without persistence), :func:`run_shard` and :func:`campaign_status` raise
:class:`CampaignStateLostError` instead of reporting an empty campaign.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from .._campaign_core import CallRow, CampaignResult, entry_line, row_key
from .._errors import InvalidRequestError, VoiceError
from .._shards import check_parts, shard_of
from ._redis_limiter import RedisRateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from .._client import AsyncVoiceClient

__all__ = [
    "CampaignStateLostError",
    "CampaignStatus",
    "campaign_status",
    "run_shard",
    "store_rows",
]

PREFIX = "voice_async:campaign:"
BATCH = 500

# KEYS[1] seen-keys set, KEYS[2..] shard lists; ARGV: (key, shard, row json)*.
# Appends each row whose key is new; returns how many were appended.
_STORE = """
local added = 0
for i = 1, #ARGV, 3 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2 + tonumber(ARGV[i + 1])], ARGV[i + 2])
    added = added + 1
  end
end
return added
"""

# KEYS[1] results hash, KEYS[2] counters hash; ARGV: (key, record json, outcome)*.
# Re-recording a row (failed, then placed on retry_failed) moves its count.
_RECORD = """
for i = 1, #ARGV, 3 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if old then redis.call('HINCRBY', KEYS[2], cjson.decode(old)['outcome'], -1) end
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], ARGV[i + 2], 1)
end
return 1
"""
#: Outcomes are written in batches: at most this many, at most this late.
RECORD_BATCH = 200
RECORD_INTERVAL = 0.05


class CampaignStateLostError(VoiceError):
    """The campaign's rows or outcomes are not in Redis (never stored, or lost)."""


def _key(campaign_id: str, *parts: object) -> str:
    return PREFIX + ":".join([campaign_id, *map(str, parts)])


def _row_json(row: CallRow, key: str) -> str:
    record = {
        "to": row.to,
        "from": row.from_,
        "agent_key": row.agent_key,
        "metadata": None if row.metadata is None else dict(row.metadata),
        "key": key,
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _row_from_json(raw: bytes | str) -> CallRow:
    data = json.loads(raw)
    return CallRow(data["to"], data["from"], data["agent_key"], data["metadata"], data["key"])


async def _aiter(rows: Iterable[CallRow] | AsyncIterable[CallRow]) -> AsyncIterator[CallRow]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


@attrs.frozen
class CampaignPlan:
    campaign_id: str
    shards: int
    rows: int
    duplicates: int
    stored_now: bool


async def store_rows(
    redis: Redis,
    campaign_id: str,
    rows: Iterable[CallRow] | AsyncIterable[CallRow],
    *,
    shards: int,
) -> CampaignPlan:
    """Split ``rows`` into ``shards`` Redis lists by row key (see the module docstring)."""
    check_parts("shards", shards)
    meta = await _meta(redis, campaign_id)
    if meta is not None:
        if meta["shards"] != shards:
            raise InvalidRequestError(
                "shards",
                f"campaign {campaign_id!r} is stored with {meta['shards']} shards, not {shards}",
            )
        return CampaignPlan(campaign_id, shards, meta["rows"], meta["duplicates"], False)
    seen = _key(campaign_id, "seen")
    lists = [_key(campaign_id, "rows", shard) for shard in range(shards)]
    await redis.delete(seen, *lists)  # leftovers of an enqueuer that crashed
    store = redis.register_script(_STORE)
    total = added = 0
    batch: list[str] = []
    async for row in _aiter(rows):
        total += 1
        try:
            key = row_key(row)
        except InvalidRequestError as exc:
            raise InvalidRequestError("rows", f"row {total}: {exc}") from None
        batch += [key, str(shard_of(key, shards)), _row_json(row, key)]
        if len(batch) >= 3 * BATCH:
            added += int(await store(keys=[seen, *lists], args=batch))
            batch = []
    if batch:
        added += int(await store(keys=[seen, *lists], args=batch))
    await redis.hset(  # type: ignore[misc]
        _key(campaign_id, "meta"),
        mapping={"shards": shards, "rows": added, "duplicates": total - added},
    )
    await redis.delete(seen)
    return CampaignPlan(campaign_id, shards, added, total - added, True)


async def _pending_rows(
    redis: Redis, campaign_id: str, shard: int, retry_failed: bool, skipped: list[int]
) -> AsyncIterator[CallRow]:
    """The shard's rows without a final outcome, read ``BATCH`` at a time."""
    rows_key, results_key = _key(campaign_id, "rows", shard), _key(campaign_id, "results", shard)
    start = 0
    while True:
        chunk = await redis.lrange(rows_key, start, start + BATCH - 1)  # type: ignore[misc]
        if not chunk:
            return
        start += len(chunk)
        parsed = [_row_from_json(raw) for raw in chunk]
        recorded = await redis.hmget(results_key, [r.key for r in parsed])  # type: ignore[misc]
        for row, record in zip(parsed, recorded, strict=True):
            outcome = None if record is None else json.loads(record)["outcome"]
            if outcome == "placed" or (outcome == "failed" and not retry_failed):
                skipped[0] += 1
                continue
            yield row


async def _meta(redis: Redis, campaign_id: str) -> dict[str, int] | None:
    """The campaign's meta hash (``shards``, ``rows``, ``duplicates``), if stored."""
    raw = await redis.hgetall(_key(campaign_id, "meta"))  # type: ignore[misc]
    if not raw:
        return None
    return {_text(k): int(v) for k, v in raw.items()}


def _text(value: bytes | str) -> str:
    """Field names as str whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else value


async def _check_stored(redis: Redis, campaign_id: str, shard: int | None = None) -> dict[str, int]:
    meta = await _meta(redis, campaign_id)
    if meta is None:
        raise CampaignStateLostError(
            f"campaign {campaign_id!r} has no rows in Redis: never enqueued, or Redis lost "
            "its data (run Redis with appendonly yes); re-enqueue the campaign -- rows "
            "already placed are answered by the server, not dialled again"
        )
    if shard is not None and not 0 <= shard < meta["shards"]:
        raise InvalidRequestError("shard", f"must be from 0 to {meta['shards'] - 1}")
    return meta


async def run_shard(
    client: AsyncVoiceClient,
    redis: Redis,
    campaign_id: str,
    shard: int,
    *,
    rate: float | None = None,
    burst: float | None = None,
    concurrency: int = 10,
    retry_failed: bool = False,
) -> dict[str, int]:
    """Dial the shard's pending rows; counts of this run's outcomes.

    ``rate`` is the whole campaign's (shared through Redis by every shard).
    Raises what ``client.campaigns.run`` raises (a campaign-wide refusal), and
    :class:`CampaignStateLostError` if the campaign is not in Redis.
    """
    await _check_stored(redis, campaign_id, shard)
    limiter = None
    if rate is not None:
        burst = burst if burst is not None else max(1.0, min(rate, rate / 10))
        limiter = RedisRateLimiter(redis, campaign_id, rate=rate, burst=burst)
    recorder = _Recorder(redis, campaign_id, shard)
    skipped = [0]
    counts = {"placed": 0, "failed": 0}
    rows = _pending_rows(redis, campaign_id, shard, retry_failed, skipped)
    run = client.campaigns.run(
        rows, campaign_id=campaign_id, concurrency=concurrency, limiter=limiter
    )
    async with recorder, run:
        async for result in run:
            if result.outcome == "skipped_done":
                continue
            recorder.add(result)
            counts[result.outcome] += 1
    return {**counts, "skipped_done": skipped[0]}


class _Recorder:
    """Writes outcomes to the shard's results hash in batches, off the result loop.

    One script call per batch instead of a round trip per row keeps the loop
    (and, through the campaign's bounded queue, the dialling) from waiting on
    Redis.  What a crash loses is at most ``RECORD_INTERVAL`` of outcomes:
    those rows are sent again and the server answers with the calls it placed.
    A failing write (Redis gone) surfaces at the next :meth:`add`.
    """

    def __init__(self, redis: Redis, campaign_id: str, shard: int) -> None:
        self._script = redis.register_script(_RECORD)
        self._keys = [_key(campaign_id, "results", shard), _key(campaign_id, "counts", shard)]
        self._buffer: list[str] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def add(self, result: CampaignResult) -> None:
        if self._task is not None and self._task.done():
            self._task.result()  # the writer failed: raise its error here
        line = json.dumps(entry_line(result), ensure_ascii=False)
        self._buffer += [result.key, line, result.outcome]
        if len(self._buffer) >= 3 * RECORD_BATCH:
            self._wake.set()

    async def flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if batch:
            await self._script(keys=self._keys, args=batch)

    async def _run(self) -> None:
        # Never cancelled: a batch taken from the buffer is written or raises,
        # it is not abandoned mid-call (that would silently lose outcomes).
        while not self._closing:
            with contextlib.suppress(asyncio.TimeoutError):  # 3.10: not TimeoutError
                await asyncio.wait_for(self._wake.wait(), RECORD_INTERVAL)
            self._wake.clear()
            await self.flush()

    async def __aenter__(self) -> _Recorder:
        self._task = asyncio.ensure_future(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task  # the writer's last batch, or its error
        await self.flush()  # also when the campaign stopped with an error


@attrs.frozen
class CampaignStatus:
    """A campaign's progress over all shards (``pending`` = no outcome yet)."""

    campaign_id: str
    rows: int
    placed: int
    failed: int
    duplicates: int
    shards: tuple[dict[str, int], ...]

    @property
    def pending(self) -> int:
        return self.rows - self.placed - self.failed

    @property
    def done(self) -> bool:
        return self.pending == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "rows": self.rows,
            "placed": self.placed,
            "failed": self.failed,
            "pending": self.pending,
            "duplicates": self.duplicates,
            "shards": list(self.shards),
        }


async def campaign_status(redis: Redis, campaign_id: str) -> CampaignStatus:
    """Aggregate every shard's counters (a few Redis reads, whatever the row count)."""
    meta = await _check_stored(redis, campaign_id)
    shards = meta["shards"]
    per_shard = []
    async with redis.pipeline(transaction=False) as pipe:
        for shard in range(shards):
            pipe.llen(_key(campaign_id, "rows", shard))
            pipe.hgetall(_key(campaign_id, "counts", shard))
        replies = await pipe.execute()
    for shard in range(shards):
        counts = {_text(k): int(v) for k, v in replies[2 * shard + 1].items()}
        per_shard.append(
            {
                "shard": shard,
                "rows": int(replies[2 * shard]),
                "placed": counts.get("placed", 0),
                "failed": counts.get("failed", 0),
            }
        )
    return CampaignStatus(
        campaign_id=campaign_id,
        rows=meta["rows"],
        placed=sum(s["placed"] for s in per_shard),
        failed=sum(s["failed"] for s in per_shard),
        duplicates=meta["duplicates"],
        shards=tuple(per_shard),
    )
