"""Integrations with other libraries; each submodule needs its own extra.

``voice_async.contrib.arq`` (extra ``[arq]``) runs campaigns and exports on
arq workers.  The engine-neutral pieces it is built from are importable from
here without arq, for Celery, taskiq or a hand-made runner:

* :func:`shard_of`, :func:`split_offsets`, :class:`OffsetWindow` -- how work
  is cut (``voice_async._shards``);
* :func:`plan_export`, :func:`export_window`, :func:`merge_parts`,
  :class:`ExportPlan`, :class:`ExportSnapshotError` -- a windowed export
  (``voice_async._export_parts``);
* :class:`RedisRateLimiter` -- one rate limit shared by every process (needs
  the ``redis`` package, which the ``[arq]`` extra brings).

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
}

__all__ = [
    "ExportPlan",
    "ExportSnapshotError",
    "OffsetWindow",
    "RedisRateLimiter",
    "export_window",
    "merge_parts",
    "plan_export",
    "shard_of",
    "split_offsets",
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
