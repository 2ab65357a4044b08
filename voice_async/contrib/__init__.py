"""Integrations with other libraries; each submodule needs its own extra.

``voice_async.contrib.opentelemetry`` (extra ``[otel]``) traces every call;
``voice_async.contrib.arq`` (extra ``[arq]``) runs campaigns and exports on
arq workers.  The engine-neutral pieces it is built from are importable from
here without arq, for Celery, taskiq or a hand-made runner:

* :func:`shard_of`, :func:`split_offsets`, :class:`OffsetWindow` -- how work
  is cut (``voice_async._shards``);
* :func:`plan_export`, :func:`export_window`, :func:`merge_parts`,
  :class:`ExportPlan`, :class:`ExportSnapshotError` -- a windowed export
  (``voice_async._export_parts``);
* :class:`RedisRateLimiter` -- one rate limit shared by every process, and
  :func:`store_rows`, :func:`run_shard`, :func:`campaign_status` -- a campaign
  sharded over workers that share one Redis (these need the ``redis``
  package, which the ``[arq]`` extra brings, but no job engine).

Names are imported on first use, so ``import voice_async.contrib`` costs
nothing and does not need redis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._export_parts import (
        ExportPlan,
        ExportSnapshotError,
        export_window,
        merge_parts,
        plan_export,
    )
    from .._shards import OffsetWindow, shard_of, split_offsets
    from ._redis_campaign import (
        CampaignStateLostError,
        CampaignStatus,
        campaign_status,
        run_shard,
        store_rows,
    )
    from ._redis_limiter import RedisRateLimiter

_HOMES = {
    "ExportPlan": "voice_async._export_parts",
    "ExportSnapshotError": "voice_async._export_parts",
    "export_window": "voice_async._export_parts",
    "merge_parts": "voice_async._export_parts",
    "plan_export": "voice_async._export_parts",
    "OffsetWindow": "voice_async._shards",
    "shard_of": "voice_async._shards",
    "split_offsets": "voice_async._shards",
    "RedisRateLimiter": "voice_async.contrib._redis_limiter",
    "CampaignStateLostError": "voice_async.contrib._redis_campaign",
    "CampaignStatus": "voice_async.contrib._redis_campaign",
    "campaign_status": "voice_async.contrib._redis_campaign",
    "run_shard": "voice_async.contrib._redis_campaign",
    "store_rows": "voice_async.contrib._redis_campaign",
}

__all__ = [
    "CampaignStateLostError",
    "CampaignStatus",
    "ExportPlan",
    "ExportSnapshotError",
    "OffsetWindow",
    "RedisRateLimiter",
    "campaign_status",
    "export_window",
    "merge_parts",
    "plan_export",
    "run_shard",
    "shard_of",
    "split_offsets",
    "store_rows",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
