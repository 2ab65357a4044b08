"""The asyncio side of a campaign: stream rows, dial them, record, yield results.

Shape (bounded everywhere, so memory stays flat whatever the input size):

    rows --> ``concurrency`` workers, each: take the next row, skip it if the
         journal has it, else limiter.acquire + make-call (+ retries)
         --> journal line --> bounded queue --> caller

Each worker holds one row and one request at a time, so exactly
``concurrency`` requests are in flight and as many rows are in memory.  With
``follow``, waiting for a call to end happens in separate tasks (at most
``follow_concurrency``) so it never holds a dialling slot.  The result queue
is bounded too: a caller that stops reading stops the dialling.

Exactly once: every attempt for a row carries the same ``Idempotency-Key``
(see :func:`campaign_idempotency_key`), and a row's outcome is journaled
before it is yielded.  Whatever is interrupted -- an attempt, the process, the
machine -- a rerun sends only rows without an outcome, and the server answers
a resent row with the call it already placed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Coroutine, Iterable, Iterator
from typing import Any

from ._aio import AsyncClosing
from ._campaign_core import (
    Action,
    CallRow,
    CampaignResult,
    CampaignSummary,
    campaign_idempotency_key,
    classify,
    row_key,
)
from ._campaign_limit import RateLimiter
from ._errors import InvalidRequestError, VoiceError
from ._journal import Journal
from ._retry import RetryPolicy, retry_delay
from ._runtime import Runtime
from .resources.calls import CallsResource
from .resources.sessions import SessionsResource

Rows = Iterable[CallRow] | AsyncIterable[CallRow]
_DONE = object()
_WAKE = object()  # tells a consumer waiting on an empty queue to look at ``_end``
_ACTIVE_STATUSES = frozenset({"queued", "ringing", "in_progress"})
#: How often ``follow`` polls a call whose live events could not be read.
FOLLOW_POLL_INTERVAL = 1.0


class _Stop(Exception):
    """A campaign-wide refusal (401/403): carries the row's failed result."""

    def __init__(self, result: CampaignResult, error: VoiceError) -> None:
        super().__init__(str(error))
        self.result, self.error = result, error


class _RowSource:
    """The rows, shared by the workers: ``(index, row)`` pairs, then ``None``.

    A plain iterable is read without awaiting (so a worker takes its next row
    at once); an async iterable is read under a lock, since an async
    generator cannot be advanced by two tasks at the same time.
    """

    def __init__(self, rows: Rows) -> None:
        self._sync: Iterator[CallRow] | None = None
        self._async: AsyncIterator[CallRow] | None = None
        if isinstance(rows, AsyncIterable):
            self._async = aiter(rows)
        else:
            self._sync = iter(rows)
        self._lock = asyncio.Lock()
        self._index = 0
        self._done = False

    async def next(self) -> tuple[int, CallRow] | None:
        if self._done:
            return None
        try:
            if self._sync is not None:
                row = next(self._sync)
            else:
                async with self._lock:
                    if self._done:
                        return None
                    assert self._async is not None
                    row = await anext(self._async)
        except (StopIteration, StopAsyncIteration):
            self._done = True
            return None
        self._index += 1
        return self._index, row

    async def aclose(self) -> None:
        """Close a generator source now, not when it is collected."""
        source: Any = self._async if self._async is not None else self._sync
        if hasattr(source, "aclose"):
            await source.aclose()
        elif hasattr(source, "close"):
            source.close()


class CampaignRun(AsyncClosing):
    """``async for result in client.campaigns.run(...)``: one result per row.

    Results come in completion order.  ``summary`` is kept up to date as rows
    finish.  Leaving the loop early (``break``, an exception, Ctrl-C) stops
    dialling and closes the journal; use ``async with`` (or ``aclose()``) to
    make that happen at once rather than when the object is collected.
    """

    def __init__(
        self,
        *,
        calls: CallsResource,
        sessions: SessionsResource,
        rows: Rows,
        campaign_id: str,
        limiter: RateLimiter,
        concurrency: int,
        journal: str | os.PathLike[str] | None,
        retry_failed: bool,
        follow: bool,
        follow_concurrency: int,
        policy: RetryPolicy,
        runtime: Runtime,
    ) -> None:
        self._calls, self._sessions = calls, sessions
        self._rows = rows
        self.campaign_id = campaign_id
        self.limiter = limiter
        self._journal_path = journal
        self._retry_failed, self._follow = retry_failed, follow
        self._policy, self._runtime = policy, runtime
        self._concurrency = concurrency
        self._follow_slots = asyncio.Semaphore(follow_concurrency)
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(concurrency, 16))
        self._source: _RowSource | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._journal: Journal | None = None
        self._closed = False
        #: How the run ends, once known: ``_DONE`` or the exception to raise.
        self._end: Any = None
        self.summary = CampaignSummary()

    def __aiter__(self) -> CampaignRun:
        return self

    async def __anext__(self) -> CampaignResult:
        if self._closed:
            raise StopAsyncIteration
        if self._supervisor is None:
            await self._start()
        while True:
            # Results queued before the end are delivered first, then the end.
            if self._end is not None and self._queue.empty():
                end = self._end
                await self.aclose()
                if isinstance(end, BaseException):
                    raise end
                raise StopAsyncIteration
            item = await self._queue.get()
            if isinstance(item, CampaignResult):
                return item

    @property
    def journal(self) -> Journal | None:
        return self._journal

    async def _start(self) -> None:
        if self._journal_path is not None:
            path, campaign_id = self._journal_path, self.campaign_id
            self._journal = await asyncio.to_thread(Journal, path, campaign_id)
        self._source = _RowSource(self._rows)
        self._supervisor = asyncio.ensure_future(self._supervise())

    async def aclose(self) -> None:
        """Stop dialling (calls in flight are abandoned: a rerun resends them
        under the same key), then fsync and close the journal.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        pending = [t for t in (self._supervisor, *self._tasks) if t is not None and not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._source is not None:
            await self._source.aclose()
        if self._journal is not None:
            await self._journal.aclose()

    # -- workers -----------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _supervise(self) -> None:
        """``concurrency`` workers; when all are done (and followed calls), the end."""
        try:
            for _ in range(self._concurrency):
                self._spawn(self._work())
            while self._tasks:
                await asyncio.gather(*self._tasks)
            self._finish(_DONE)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a failing row source or a bug: the caller sees it
            self._stop(exc)

    async def _work(self) -> None:
        """Take the next row as soon as the last one is placed or refused.

        Long-lived workers pulling rows (rather than a task per row handed a
        slot) keep exactly ``concurrency`` requests in flight with no hand-off
        delay between one row's answer and the next row's request.
        """
        assert self._source is not None
        while (item := await self._source.next()) is not None:
            index, row = item
            try:
                await self._handle(index, row)
            except _Stop as stop:
                await self._emit(stop.result)
                self._stop(stop.error)
                return

    async def _handle(self, index: int, row: CallRow) -> None:
        try:
            if not isinstance(row, CallRow):
                raise InvalidRequestError("rows", f"must yield CallRow, not {type(row).__name__}")
            key = row_key(row)
        except InvalidRequestError as exc:
            await self._emit(CampaignResult(f"row-{index}", "failed", error=exc, row=row))
            return
        recorded = self._journal.recorded if self._journal is not None else None
        if recorded is not None and key in recorded.placed:
            session_id = recorded.placed[key]
            await self._emit(CampaignResult(key, "skipped_done", session_id=session_id, row=row))
            return
        if recorded is not None and key in recorded.failed and not self._retry_failed:
            await self._emit(CampaignResult(key, "skipped_done", row=row))
            return
        result = await self._dial(row, key)
        if self._follow and result.session_id is not None:
            # Waiting for the call to end must not hold a dialling slot.
            await self._follow_slots.acquire()
            self._spawn(self._follow_and_emit(result))
        else:
            await self._emit(result)

    async def _dial(self, row: CallRow, key: str) -> CampaignResult:
        idempotency_key = campaign_idempotency_key(self.campaign_id, key)
        attempts = retries = 0
        while True:
            await self.limiter.acquire()
            attempts += 1
            try:
                call = await self._calls.create(
                    to=row.to,
                    from_=row.from_,
                    agent_key=row.agent_key,
                    metadata=row.metadata,
                    idempotency_key=idempotency_key,
                )
            except InvalidRequestError as exc:  # refused locally: nothing was sent
                return CampaignResult(key, "failed", error=exc, attempts=attempts - 1, row=row)
            except VoiceError as exc:
                action = classify(exc)
                retry_after = getattr(exc, "retry_after", None)
                if action is Action.THROTTLE:
                    await self.limiter.throttled(retry_after)
                    continue
                if action is Action.RETRY:
                    rng = self._runtime.random
                    delay = retry_delay(self._policy, retries, retry_after, rng)
                    if delay is not None:
                        retries += 1
                        await self._runtime.sleep(delay)
                        continue
                failed = CampaignResult(key, "failed", error=exc, attempts=attempts, row=row)
                if action is Action.STOP:
                    raise _Stop(failed, exc) from None
                return failed
            await self.limiter.succeeded()
            return CampaignResult(
                key, "placed", session_id=call.session_id, attempts=attempts, row=row
            )

    async def _follow_and_emit(self, placed: CampaignResult) -> None:
        try:
            await self._emit(await self._follow_call(placed))
        finally:
            self._follow_slots.release()

    async def _follow_call(self, placed: CampaignResult) -> CampaignResult:
        """Wait for the call to end: its live events, else polling."""
        assert placed.session_id is not None
        with contextlib.suppress(VoiceError):
            async with self._sessions.events(placed.session_id) as stream:
                async for _ in stream:
                    pass
        while True:
            try:
                session = await self._sessions.get(placed.session_id)
            except VoiceError:
                return placed  # placed for sure; the ending is unknown
            if str(session.status) not in _ACTIVE_STATUSES:
                break
            await self._runtime.sleep(FOLLOW_POLL_INTERVAL)
        return CampaignResult(
            placed.key,
            "placed",
            session_id=placed.session_id,
            attempts=placed.attempts,
            status=str(session.status),
            duration_seconds=session.duration_seconds,
            row=placed.row,
        )

    # -- recording ---------------------------------------------------------------

    async def _emit(self, result: CampaignResult) -> None:
        """Journal first, then count, then hand over: what was yielded is on disk."""
        if self._journal is not None and result.outcome != "skipped_done":
            self._journal.append(result)
        self.summary.add(result)
        await self._queue.put(result)

    def _stop(self, error: BaseException) -> None:
        """No further rows are sent; the caller gets ``error`` after what was queued."""
        me = asyncio.current_task()
        for task in (self._supervisor, *self._tasks):
            if task is not None and task is not me:
                task.cancel()
        self._finish(error)

    def _finish(self, end: Any) -> None:
        """Record how the run ends, without waiting: a full queue, or this task
        being cancelled by the stop it just caused, cannot lose the end."""
        if self._end is None:
            self._end = end
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_WAKE)
