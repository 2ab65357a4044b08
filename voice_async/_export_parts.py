"""A sessions export cut into offset windows, one part file each, then merged.

Engine-neutral: these three steps are what a job engine distributes, and they
need nothing but a client and a directory every worker can write to.

1. :func:`plan_export` pins one snapshot (``created_before``), asks the server
   how many sessions it holds, cuts it into windows (:func:`split_offsets`)
   and writes ``manifest.json`` into the directory.
2. :func:`export_window` (one job per window, any worker, any order) writes the
   window's sessions to ``part-NNNNN.<fmt>``.  The part is written to a temp
   file, fsynced and renamed over the final name (then the directory is
   fsynced), so a part is either absent or whole: a worker killed mid-window
   leaves only a temp file, and the retried job writes the whole part again
   and replaces atomically.  Before the rename the job checks that it got
   exactly ``limit`` sessions and that the server still reports the planned
   total; if the snapshot moved (a server clock behind the client's, a
   ``created_before`` in the future) it raises :class:`ExportSnapshotError`
   rather than write a part that could overlap or miss its neighbours.
3. :func:`merge_parts` checks the manifest and every part's row count, and
   concatenates them in window order into one file (atomically too), which is
   byte for byte what ``stateset-voice sessions export`` writes for the same
   snapshot and filters.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import secrets
import shutil
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from . import _validate as check
from ._errors import InvalidRequestError, VoiceError
from ._shards import OffsetWindow, split_offsets
from .cli.export import csv_header, render
from .resources.sessions import SessionFilters

if TYPE_CHECKING:
    from ._client import AsyncVoiceClient

__all__ = [
    "MANIFEST",
    "ExportPlan",
    "ExportSnapshotError",
    "export_window",
    "merge_parts",
    "plan_export",
]

MANIFEST = "manifest.json"
FORMATS = ("jsonl", "csv")
_VERSION = 1


class ExportSnapshotError(VoiceError):
    """The pinned snapshot moved, or the parts on disk do not add up to it."""


@attrs.frozen
class ExportPlan:
    """Everything a window job needs; the JSON form is the manifest."""

    created_before: str
    filters: Mapping[str, str]
    fmt: str
    total: int
    page_size: int
    windows: tuple[OffsetWindow, ...]

    def part_name(self, index: int) -> str:
        return f"part-{index:05d}.{self.fmt}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "created_before": self.created_before,
            "filters": dict(self.filters),
            "format": self.fmt,
            "total": self.total,
            "page_size": self.page_size,
            "windows": [w.to_dict() for w in self.windows],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportPlan:
        if data.get("version") != _VERSION:
            raise ExportSnapshotError(f"unknown manifest version {data.get('version')!r}")
        windows = tuple(OffsetWindow(w["index"], w["offset"], w["limit"]) for w in data["windows"])
        return cls(
            created_before=data["created_before"],
            filters=dict(data["filters"]),
            fmt=data["format"],
            total=data["total"],
            page_size=data["page_size"],
            windows=windows,
        )


def default_pin(now: datetime | None = None) -> str:
    """The snapshot bound when none is given: one whole second before now, UTC.

    Whole seconds, because servers may compare at that precision; one second
    back, so a call created in the current second cannot land inside.
    """
    moment = (now or datetime.now(timezone.utc)).replace(microsecond=0) - timedelta(seconds=1)
    return check.timestamp("created_before", moment)


async def plan_export(
    client: AsyncVoiceClient,
    out_dir: str | os.PathLike[str],
    *,
    windows: int,
    fmt: str = "jsonl",
    page_size: int = 100,
    created_before: datetime | str | None = None,
    **filters: Any,
) -> ExportPlan:
    """Pin the snapshot, count it, cut it into windows, write the manifest.

    ``filters`` are those of ``client.sessions.list`` (``status``,
    ``direction``, ``agent_key``, ``created_after``).  ``created_before``
    defaults to :func:`default_pin`; give one in the past to choose it.
    """
    if fmt not in FORMATS:
        raise InvalidRequestError("fmt", f"must be one of {FORMATS}")
    pin = check.timestamp("created_before", created_before or default_pin())
    params = SessionFilters(**filters).params()  # typed errors before anything is sent
    page = await client.sessions.list(limit=1, offset=0, created_before=pin, **filters)
    if page.total is None:
        raise ExportSnapshotError(
            "the server does not report `total` for session lists; "
            "a windowed export needs it (use `sessions export` instead)"
        )
    plan = ExportPlan(
        created_before=pin,
        filters=params,
        fmt=fmt,
        total=page.total,
        page_size=check.limit(page_size, "page_size"),
        windows=split_offsets(page.total, windows, page_size),
    )
    await asyncio.to_thread(write_plan, out_dir, plan)
    return plan


def write_plan(out_dir: str | os.PathLike[str], plan: ExportPlan) -> None:
    """Write the manifest (atomically), creating the directory if needed."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    _replace_with(directory / MANIFEST, json.dumps(plan.to_dict(), indent=1) + "\n")


def read_plan(out_dir: str | os.PathLike[str]) -> ExportPlan:
    path = Path(out_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportSnapshotError(f"no {MANIFEST} in {out_dir}: plan the export first") from None
    return ExportPlan.from_dict(data)


async def export_window(
    client: AsyncVoiceClient,
    out_dir: str | os.PathLike[str],
    index: int,
    *,
    concurrency: int = 8,
) -> int:
    """Write window ``index`` of the planned export to its part file; its row count.

    Safe to run again (after a crash, or twice at once): each run writes a
    private temp file and atomically replaces the part with a whole one.
    """
    plan = read_plan(out_dir)
    if not 0 <= index < len(plan.windows):
        raise InvalidRequestError("index", f"must be from 0 to {len(plan.windows) - 1}")
    window = plan.windows[index]
    final = Path(out_dir) / plan.part_name(index)
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
    try:
        # One task per job: the file is opened synchronously, pages are
        # written from a thread so the pages in flight keep arriving.
        with open(tmp, "w", encoding="utf-8", newline="") as out:  # noqa: ASYNC230
            if plan.fmt == "csv" and index == 0:
                out.write(csv_header())
            rows, total = await _write_window(client, plan, window, out, concurrency)
            _check_window(plan, window, rows, total)
            await asyncio.to_thread(_sync, out)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return rows


async def _write_window(
    client: AsyncVoiceClient,
    plan: ExportPlan,
    window: OffsetWindow,
    out: IO[str],
    concurrency: int,
) -> tuple[int, int | None]:
    """Stream the window's pages into ``out``; (rows written, total the server saw)."""
    if not window.limit:
        return 0, plan.total
    iterator = client.sessions.iter(
        limit=plan.page_size,
        max_items=window.limit,
        start_offset=window.offset,
        concurrency=concurrency,
        **_iter_filters(plan),
    )
    rows = 0
    async with iterator.pages() as pages:
        async for page in pages:
            rows += len(page.data)
            await asyncio.to_thread(out.write, render(page.data, plan.fmt))
    return rows, iterator.total


def _iter_filters(plan: ExportPlan) -> dict[str, Any]:
    return {**plan.filters, "created_before": plan.created_before}


def _check_window(plan: ExportPlan, window: OffsetWindow, rows: int, total: int | None) -> None:
    if total is not None and total != plan.total:
        raise ExportSnapshotError(
            f"window {window.index}: the snapshot created_before={plan.created_before} "
            f"now holds {total} sessions, not the planned {plan.total}; the server clock "
            "may be behind, or created_before lies in the future: plan again with an "
            "earlier created_before"
        )
    if rows != window.limit:
        raise ExportSnapshotError(
            f"window {window.index}: got {rows} sessions, expected {window.limit}"
        )


def merge_parts(out_dir: str | os.PathLike[str], out: str | os.PathLike[str]) -> int:
    """Concatenate the parts in window order into ``out``; the number of sessions.

    Every part must be present with exactly its window's row count, otherwise
    :class:`ExportSnapshotError` names the first one that is not and nothing
    is written.  ``out`` is replaced atomically.  Temp files that killed
    window jobs left behind (``.part-*.tmp``) are removed once every part is
    whole: no window can still be writing then.
    """
    plan = read_plan(out_dir)
    target = Path(out)
    if target.suffix.lower() != f".{plan.fmt}":
        raise InvalidRequestError("out", f"must end in .{plan.fmt} like the parts")
    parts = [Path(out_dir) / plan.part_name(w.index) for w in plan.windows]
    for window, part in zip(plan.windows, parts, strict=True):
        _check_part(plan, window, part)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as sink:
            for part in parts:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, sink, 1 << 20)
            _sync(sink)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
    for leftover in Path(out_dir).glob(".part-*.tmp"):
        leftover.unlink(missing_ok=True)
    return plan.total


def _check_part(plan: ExportPlan, window: OffsetWindow, part: Path) -> None:
    if not part.exists():
        raise ExportSnapshotError(f"{part.name} is missing: window {window.index} did not finish")
    expected = window.limit + (1 if plan.fmt == "csv" and window.index == 0 else 0)
    records = _count_records(part, plan.fmt)
    if records != expected:
        raise ExportSnapshotError(f"{part.name} holds {records} records, expected {expected}")


def _count_records(part: Path, fmt: str) -> int:
    """JSON lines never hold a raw newline; a CSV cell may (quoted), so parse it."""
    if fmt == "csv":
        with open(part, encoding="utf-8", newline="") as source:
            return sum(1 for _ in csv.reader(source))
    with open(part, "rb") as source:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: source.read(1 << 20), b""))


def _replace_with(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            _sync(out)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _sync(handle: IO[Any]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    if os.name != "posix":  # pragma: no cover - no directory fds on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
