"""How work is cut into independent pieces for several workers (engine-neutral).

Pure functions, no I/O and no job engine: arq, Celery or taskiq glue all call
these, so every engine cuts work the same way.

Campaign rows -> shards, by stable row key
    ``shard_of(key, n)`` hashes the row key with SHA-256 (not Python's
    ``hash()``, which is salted per process), so the same row lands in the same
    shard in every process, on every machine, whatever the input order.  A row
    therefore belongs to exactly one shard, and a shard re-run after a crash
    sees exactly the rows it saw before.

Export snapshot -> offset windows
    A snapshot is a list that no longer moves: every session created before a
    pinned ``created_before``.  Insertions only happen at the head (newest
    first), and nothing can be inserted *before* a past instant, so offsets
    inside the snapshot are stable and ``split_offsets`` can hand each worker a
    contiguous ``[offset, offset + limit)`` range.  Windows are page-aligned so
    each window requests whole pages, exactly like a single-process export.
"""

from __future__ import annotations

import hashlib

import attrs

from ._errors import InvalidRequestError

__all__ = ["OffsetWindow", "shard_of", "split_offsets"]

#: Upper bound on shards/windows: far beyond what one Redis or one tenant
#: limit can feed, small enough that a typo (``shards=10**9``) fails early.
MAX_PARTS = 10_000


def check_parts(name: str, count: int) -> int:
    """``count`` as a number of shards/windows, or a clear error."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PARTS:
        raise InvalidRequestError(name, f"must be an integer from 1 to {MAX_PARTS}")
    return count


def shard_of(key: str, shards: int) -> int:
    """The shard (``0 <= shard < shards``) that owns the row with this key.

    Stable across processes, machines and Python versions: the first 8 bytes
    of SHA-256 of the UTF-8 key, modulo ``shards``.
    """
    check_parts("shards", shards)
    if not isinstance(key, str) or not key:
        raise InvalidRequestError("key", "must be a non-empty string")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


@attrs.frozen
class OffsetWindow:
    """List positions ``[offset, offset + limit)`` of a pinned snapshot."""

    index: int
    offset: int
    limit: int

    def to_dict(self) -> dict[str, int]:
        return {"index": self.index, "offset": self.offset, "limit": self.limit}


def split_offsets(total: int, windows: int, page_size: int = 100) -> tuple[OffsetWindow, ...]:
    """Cut ``total`` positions into at most ``windows`` contiguous page-aligned ranges.

    Sizes differ by at most one page; when there are fewer pages than
    windows, fewer (non-empty) windows are returned.  An empty snapshot is
    one empty window, so an export always has at least one part.
    """
    check_parts("windows", windows)
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise InvalidRequestError("total", "must be an integer >= 0")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise InvalidRequestError("page_size", "must be an integer >= 1")
    pages = -(-total // page_size)
    count = max(1, min(windows, pages))
    base, extra = divmod(pages, count)
    out: list[OffsetWindow] = []
    page = 0
    for index in range(count):
        n_pages = base + (1 if index < extra else 0)
        offset = page * page_size
        limit = min(total, (page + n_pages) * page_size) - offset
        out.append(OffsetWindow(index, offset, limit))
        page += n_pages
    return tuple(out)
