"""Campaigns: dial a list of rows exactly once, at the tenant's rate, resumably."""

from __future__ import annotations

import os

from .. import _validate as check
from .._campaign import CampaignRun, Rows
from .._campaign_limit import AdaptiveRateLimiter, RateLimiter
from .._errors import InvalidRequestError
from .._transport import Transport
from .calls import CallsResource
from .sessions import SessionsResource


def _positive_int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(field, f"must be an int >= 1, got {value!r}")
    return value


class CampaignsResource:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def run(
        self,
        rows: Rows,
        *,
        campaign_id: str,
        rate: float | None = None,
        concurrency: int = 10,
        journal: str | os.PathLike[str] | None = None,
        retry_failed: bool = False,
        follow: bool = False,
        limiter: RateLimiter | None = None,
        follow_concurrency: int = 100,
    ) -> CampaignRun:
        """Dial every row once; an async iterator of :class:`CampaignResult`::

            async with client.campaigns.run(rows, campaign_id="reminders-0612",
                                            rate=5, journal="run.jsonl") as run:
                async for result in run:
                    print(result.key, result.outcome, result.session_id)

        ``rows``: any iterable or async iterable of :class:`CallRow`, read
        lazily.  Each row's ``Idempotency-Key`` is derived from
        ``campaign_id`` and the row's key, so retries, reruns and other
        processes never dial a row twice.

        ``rate`` (calls/s; token bucket, burst ``max(1, rate/10)``) and
        ``concurrency`` (requests in flight) bound the pace; a 429 pauses and
        slows the whole campaign (see :class:`AdaptiveRateLimiter`), so no
        row fails because of one.  Pass ``limiter`` instead of ``rate`` to
        share a limit (e.g. between processes).  Transient failures are
        retried with the client's retry policy; 400/422 fail the row; 401/403
        stop the campaign: the row is recorded and the error is raised.

        ``journal``: a JSONL file of outcomes.  Rerunning with it skips rows
        already placed (``skipped_done``), sends rows without an outcome, and
        leaves failed rows alone unless ``retry_failed``.  ``follow`` also
        waits (at most ``follow_concurrency`` at a time) for each call to end
        and records its final ``status`` and ``duration_seconds``.
        """
        check.short_text("campaign_id", campaign_id)
        _positive_int("concurrency", concurrency)
        _positive_int("follow_concurrency", follow_concurrency)
        if limiter is not None and rate is not None:
            raise InvalidRequestError("rate", "give either rate or limiter, not both")
        if isinstance(rows, (str, bytes)):
            raise InvalidRequestError("rows", "must be an iterable of CallRow, not a string")
        base = self._transport
        return CampaignRun(
            # One attempt per call over the client's own pool: the campaign makes
            # its own retry decisions (a 429 must slow every row, not just the
            # one that saw it, and ``attempts`` must be exact).
            calls=CallsResource(base.with_options(max_retries=0)),
            sessions=SessionsResource(base),
            rows=rows,
            campaign_id=campaign_id,
            limiter=limiter if limiter is not None else AdaptiveRateLimiter(rate),
            concurrency=concurrency,
            journal=journal,
            retry_failed=retry_failed,
            follow=follow,
            follow_concurrency=follow_concurrency,
            policy=base.retry_policy,
            runtime=base.runtime,
        )
