"""voice_async on arq workers: sharded campaigns and windowed exports.

Run a worker (configuration from the environment, see :func:`settings_from_env`)::

    arq voice_async.contrib.arq.WorkerSettings

or, next to jobs of your own, ``arq.run_worker(worker_settings([my_job]))``
(a settings dict; see :func:`worker_settings`).  Each worker process opens one
:class:`AsyncVoiceClient`
in ``on_startup`` (keys and base URL from ``STATESET_VOICE_*``) and shares it
between its jobs through ``ctx["voice_client"]``.

Enqueue from anywhere that reaches the same Redis::

    redis = await arq.create_pool(RedisSettings.from_dsn(url))
    export = await enqueue_export(redis, "/shared/export", windows=8)
    await export.wait()
    merge_parts("/shared/export", "/shared/sessions.jsonl")

Failure model (details in ``docs/scale-out.md``): a job whose worker dies is
re-run by arq once its in-progress lock expires (``job_timeout`` + 10 s);
transient API failures that outlive the client's own retries become
``arq.Retry`` with a growing delay, up to ``max_tries``; everything else fails
the job loudly (its ``Job.result()`` raises).  Re-running is always safe:
export parts are replaced atomically, campaign rows carry deterministic
idempotency keys.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import attrs
from arq import Retry
from arq.connections import ArqRedis, RedisSettings
from arq.constants import result_key_prefix
from arq.jobs import Job, JobStatus
from arq.worker import Function, func
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .._campaign_core import CallRow
from .._client import AsyncVoiceClient
from .._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    InternalServerError,
    RateLimitError,
    VoiceError,
)
from .._export_parts import ExportPlan, export_window, plan_export
from ._redis_campaign import CampaignStatus, campaign_status, run_shard, store_rows

__all__ = [
    "FUNCTIONS",
    "CampaignStatus",
    "EnqueuedJobs",
    "JobError",
    "WorkerSettings",
    "campaign_shard_job",
    "campaign_status",
    "enqueue_campaign",
    "enqueue_export",
    "export_window_job",
    "settings_from_env",
    "shutdown",
    "startup",
    "worker_settings",
]

ENV_REDIS_URL = "VOICE_ASYNC_REDIS_URL"
ENV_JOB_TIMEOUT = "VOICE_ASYNC_JOB_TIMEOUT"
ENV_MAX_TRIES = "VOICE_ASYNC_MAX_TRIES"
ENV_MAX_JOBS = "VOICE_ASYNC_MAX_JOBS"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
CLIENT_KEY = "voice_client"
EXPORT_JOB = "voice_async.export_window"
CAMPAIGN_JOB = "voice_async.campaign_shard"

#: Errors worth running the job again later: the client already retried them,
#: or Redis itself was briefly away (the job's state is in Redis, so it resumes).
TRANSIENT = (
    APIConnectionError,
    InternalServerError,
    RateLimitError,
    APIResponseValidationError,
    RedisConnectionError,
    RedisTimeoutError,
)
_RETRY_STEP = 5.0  # seconds; the n-th retry of a job waits n steps

T = TypeVar("T")


def _env_number(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"${name} must be an integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"${name} must be >= 1, got {value}")
    return value


def settings_from_env() -> dict[str, Any]:
    """Worker options from the environment, for ``WorkerSettings`` or ``arq.Worker``.

    ``VOICE_ASYNC_REDIS_URL`` (default ``redis://localhost:6379/0``),
    ``VOICE_ASYNC_JOB_TIMEOUT`` (seconds, default 3600: it also decides how
    soon a job whose worker died is picked up again, timeout + 10 s),
    ``VOICE_ASYNC_MAX_TRIES`` (default 5), ``VOICE_ASYNC_MAX_JOBS`` (jobs at
    once per worker, default 10).
    """
    return {
        "redis_settings": RedisSettings.from_dsn(
            os.environ.get(ENV_REDIS_URL) or DEFAULT_REDIS_URL
        ),
        "job_timeout": _env_number(ENV_JOB_TIMEOUT, 3600),
        "max_tries": _env_number(ENV_MAX_TRIES, 5),
        "max_jobs": _env_number(ENV_MAX_JOBS, 10),
    }


async def startup(ctx: dict[Any, Any]) -> None:
    """``on_startup``: one client per worker process, configured from the environment."""
    ctx[CLIENT_KEY] = AsyncVoiceClient()


async def shutdown(ctx: dict[Any, Any]) -> None:
    """``on_shutdown``: close the worker's client (its connection pool)."""
    client = ctx.pop(CLIENT_KEY, None)
    if isinstance(client, AsyncVoiceClient):
        await client.aclose()


def client_of(ctx: dict[Any, Any]) -> AsyncVoiceClient:
    client = ctx.get(CLIENT_KEY)
    if not isinstance(client, AsyncVoiceClient):
        raise RuntimeError(
            "no voice client in the arq ctx: add voice_async.contrib.arq.startup "
            "to the worker's on_startup"
        )
    return client


class JobError(VoiceError):
    """A job failed: what ``Job.result()`` / ``EnqueuedJobs.wait()`` raise.

    arq hands a job's exception to the enqueuer by pickling it, and the SDK's
    errors carry keyword-only details that pickle cannot rebuild; this one
    keeps what the enqueuer needs: the original ``error_type`` (class name),
    its message and HTTP ``status`` (or ``None``).
    """

    def __init__(self, message: str, error_type: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        return (JobError, (str(self), self.error_type, self.status))

    @classmethod
    def from_error(cls, exc: VoiceError) -> JobError:
        status = exc.status if isinstance(exc, APIStatusError) else None
        return cls(f"{type(exc).__name__}: {exc}", type(exc).__name__, status)


async def retry_transient(ctx: dict[Any, Any], work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work``; a transient API failure becomes ``arq.Retry`` with a growing delay,
    any other SDK error a :class:`JobError` (the worker logs the original)."""
    try:
        return await work()
    except TRANSIENT as exc:
        raise Retry(defer=_RETRY_STEP * int(ctx.get("job_try", 1))) from exc
    except VoiceError as exc:
        raise JobError.from_error(exc) from None


async def export_window_job(
    ctx: dict[Any, Any], out_dir: str, index: int, concurrency: int = 8
) -> int:
    """arq job: write one window's part file (see ``voice_async._export_parts``)."""
    client = client_of(ctx)
    return await retry_transient(
        ctx, lambda: export_window(client, out_dir, index, concurrency=concurrency)
    )


@attrs.frozen
class EnqueuedJobs:
    """The jobs of one export or campaign: ``await jobs.wait()`` for their results."""

    jobs: tuple[Job, ...]

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(job.job_id for job in self.jobs)

    async def wait(self, timeout: float | None = None, poll_delay: float = 0.5) -> list[Any]:
        """Each job's result, in order; re-raises the first job's error."""
        return [await job.result(timeout=timeout, poll_delay=poll_delay) for job in self.jobs]


async def enqueue_all(
    redis: ArqRedis,
    function: str,
    calls: list[tuple[str, tuple[Any, ...]]],
    queue_name: str | None,
) -> EnqueuedJobs:
    """Enqueue ``(job_id, args)`` calls; a job queued or running is reused, not doubled.

    A job that already *finished* (arq keeps its result for a while and would
    refuse the id) is run again: every job here is safe to re-run, and that
    is how a failed campaign or export is resumed.
    """
    jobs: list[Job] = []
    queue = queue_name or redis.default_queue_name
    for job_id, args in calls:
        job = await redis.enqueue_job(function, *args, _job_id=job_id, _queue_name=queue)
        if job is None:
            existing = Job(job_id, redis, _queue_name=queue)
            if await existing.status() == JobStatus.complete:
                await redis.delete(result_key_prefix + job_id)
                job = await redis.enqueue_job(function, *args, _job_id=job_id, _queue_name=queue)
            job = job or existing
        jobs.append(job)
    return EnqueuedJobs(tuple(jobs))


def absolute(path: str | os.PathLike[str]) -> Path:
    """Job arguments travel to other processes: relative paths would not mean the same."""
    return Path(os.path.abspath(path))


def export_job_id(out_dir: Path, plan: ExportPlan, index: int) -> str:
    """Deterministic per (directory, snapshot, window): enqueueing twice runs once."""
    digest = hashlib.sha256(f"{out_dir}\0{plan.created_before}".encode()).hexdigest()[:16]
    return f"voice_async:export:{digest}:{index}"


async def enqueue_export(
    redis: ArqRedis,
    out_dir: str | os.PathLike[str],
    *,
    windows: int,
    client: AsyncVoiceClient | None = None,
    fmt: str = "jsonl",
    page_size: int = 100,
    concurrency: int = 8,
    queue_name: str | None = None,
    **filters: Any,
) -> EnqueuedJobs:
    """Plan a windowed export into ``out_dir`` and enqueue one job per window.

    ``out_dir`` must be a directory every worker can write (a shared volume
    when workers run on several machines).  ``filters`` are those of
    ``client.sessions.list`` plus ``created_before`` (the snapshot pin; see
    :func:`voice_async.contrib.plan_export`).  ``client`` plans the export
    (default: one configured from the environment).  When every job is done,
    :func:`voice_async.contrib.merge_parts` (or ``stateset-voice export-merge``)
    writes the single file.
    """
    directory = absolute(out_dir)
    own = client is None
    planner = client or AsyncVoiceClient()
    try:
        plan = await plan_export(
            planner, directory, windows=windows, fmt=fmt, page_size=page_size, **filters
        )
    finally:
        if own:
            await planner.aclose()
    calls = [
        (export_job_id(directory, plan, w.index), (str(directory), w.index, concurrency))
        for w in plan.windows
    ]
    return await enqueue_all(redis, EXPORT_JOB, calls, queue_name)


async def campaign_shard_job(
    ctx: dict[Any, Any],
    campaign_id: str,
    shard: int,
    rate: float | None = None,
    concurrency: int = 10,
    retry_failed: bool = False,
) -> dict[str, int]:
    """arq job: dial one shard's pending rows (see ``voice_async.contrib._redis_campaign``).

    The rows, the outcomes and the shared rate limit live in the worker's
    own Redis (``ctx["redis"]``, the queue's), so any worker can run any shard.
    """
    client, redis = client_of(ctx), ctx["redis"]
    return await retry_transient(
        ctx,
        lambda: run_shard(
            client,
            redis,
            campaign_id,
            shard,
            rate=rate,
            concurrency=concurrency,
            retry_failed=retry_failed,
        ),
    )


def campaign_job_id(campaign_id: str, shard: int) -> str:
    digest = hashlib.sha256(campaign_id.encode()).hexdigest()[:16]
    return f"voice_async:campaign:{digest}:{shard}"


async def enqueue_campaign(
    redis: ArqRedis,
    rows_source: Iterable[CallRow] | AsyncIterable[CallRow],
    *,
    campaign_id: str,
    shards: int,
    rate: float | None = None,
    concurrency: int = 10,
    retry_failed: bool = False,
    queue_name: str | None = None,
) -> EnqueuedJobs:
    """Store the rows in ``shards`` shards by row key and enqueue one job per shard.

    ``rate`` (calls/s) is the campaign's total over all workers, enforced by
    one :class:`~voice_async.contrib.RedisRateLimiter`; ``concurrency`` is per
    shard job.  Rows are streamed into Redis (memory flat).  Calling it again
    for the same ``campaign_id`` stores nothing new and re-enqueues the shards
    whose jobs are gone: that is how a campaign is resumed after its jobs
    failed (e.g. max_tries), and it dials no row twice.  Follow progress with
    :func:`campaign_status`.
    """
    await store_rows(redis, campaign_id, rows_source, shards=shards)
    calls = [
        (campaign_job_id(campaign_id, shard), (campaign_id, shard, rate, concurrency, retry_failed))
        for shard in range(shards)
    ]
    return await enqueue_all(redis, CAMPAIGN_JOB, calls, queue_name)


#: The job functions, for a ``WorkerSettings.functions`` of your own.
FUNCTIONS: list[Function] = [
    func(export_window_job, name=EXPORT_JOB),
    func(campaign_shard_job, name=CAMPAIGN_JOB),
]


def worker_settings(
    extra_functions: Iterable[Function | Callable[..., Awaitable[Any]]] = (), **overrides: Any
) -> dict[str, Any]:
    """A settings dict for ``arq.run_worker`` / ``arq.Worker``: voice_async's jobs,
    startup and shutdown, the environment's options, plus your own jobs and overrides.

    (arq reads a settings *class* through its own ``__dict__`` only, so
    subclassing :class:`WorkerSettings` would silently drop its options; a
    dict composes safely.)
    """
    return {
        "functions": [*FUNCTIONS, *extra_functions],
        "on_startup": startup,
        "on_shutdown": shutdown,
        **settings_from_env(),
        **overrides,
    }


class WorkerSettings:
    """``arq voice_async.contrib.arq.WorkerSettings``: every voice_async job, env-configured.

    To add your own jobs use :func:`worker_settings` (not a subclass).
    """

    functions = FUNCTIONS
    on_startup = startup
    on_shutdown = shutdown
    # Read once, when arq imports this class: the worker's environment.
    _env = settings_from_env()
    redis_settings: RedisSettings = _env["redis_settings"]
    job_timeout: int = _env["job_timeout"]
    max_tries: int = _env["max_tries"]
    max_jobs: int = _env["max_jobs"]
