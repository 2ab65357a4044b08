"""``stateset-voice sessions export``: every session to JSONL or CSV, resumably.

The file only ever holds whole lines.  After each page is written and flushed,
a small sidecar (``FILE.progress.json``) records the file's byte length and
the iterator's :class:`Checkpoint`.  A rerun after a crash truncates the file
to that length (dropping any torn last line) and resumes from the checkpoint,
so the finished file is the same as an uninterrupted run's.  The sidecar is
removed when the export completes.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._errors import InvalidRequestError
from .._models import VoiceSession
from .._pagination import Checkpoint, SessionIterator
from ._common import add_filters, filters, make_client, print_json, to_json

CSV_FIELDS = (
    "id",
    "tenant_id",
    "status",
    "direction",
    "to",
    "from",
    "agent_key",
    "created_at",
    "started_at",
    "ended_at",
    "duration_seconds",
    "call_sid",
    "metadata",
)


def register(actions: Any, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "export",
        parents=[common],
        help="export all sessions to .jsonl or .csv (resumable)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, help="FILE.jsonl or FILE.csv")
    parser.add_argument("--concurrency", type=int, default=4, help="pages in flight (default 4)")
    parser.add_argument("--page-size", type=int, default=100, help="1 to 100 (default 100)")
    parser.add_argument(
        "--restart", action="store_true", help="ignore an unfinished earlier run and start over"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_filters(parser)
    parser.set_defaults(handler=export)


def sidecar(out: Path) -> Path:
    return out.with_name(out.name + ".progress.json")


def file_format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise InvalidRequestError("--out", "must end in .jsonl or .csv")
    return suffix[1:]


def render(sessions: tuple[VoiceSession, ...], fmt: str) -> str:
    """The lines for one page, as one string, so a page is written in one go."""
    rows = [to_json(s) for s in sessions]
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    for row in rows:
        writer.writerow({**row, "metadata": json.dumps(row.get("metadata") or {})})
    return buffer.getvalue()


def csv_header() -> str:
    return ",".join(CSV_FIELDS) + "\n"


def load_progress(args: argparse.Namespace, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """The unfinished earlier run to resume, if any (and if it is the same export)."""
    path = sidecar(args.out)
    if args.restart or not path.exists() or not args.out.exists():
        return None
    progress: dict[str, Any] = json.loads(path.read_text())
    if progress.get("filters") != wanted:
        raise InvalidRequestError(
            "--out",
            f"{args.out} holds an unfinished export with other filters; "
            "use the same filters, or --restart",
        )
    return progress


def save_progress(out: Path, progress: dict[str, Any]) -> None:
    """Atomically: a crash leaves the old sidecar or the new one, never half."""
    path = sidecar(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(progress))
    os.replace(tmp, path)


def persist(path: Path, out: Any, text: str, progress: dict[str, Any]) -> None:
    """Write one page durably, then record how far the file is good."""
    out.write(text)
    out.flush()
    os.fsync(out.fileno())
    save_progress(path, {**progress, "bytes": out.tell()})


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        yield bar


async def export(args: argparse.Namespace) -> int:
    fmt = file_format(args.out)
    wanted = {k: v for k, v in filters(args).items() if v is not None}
    progress = load_progress(args, wanted)
    resume = Checkpoint.from_dict(progress["checkpoint"]) if progress else None
    rows = progress["rows"] if progress else 0
    async with make_client(args) as client:
        iterator = client.sessions.iter(
            limit=args.page_size, concurrency=args.concurrency, resume=resume, **wanted
        )
        # A CLI runs one task: opening the file synchronously blocks nobody.
        mode = "r+" if progress else "w"
        with open(args.out, mode, encoding="utf-8", newline="") as out:  # noqa: ASYNC230
            if progress:
                out.truncate(progress["bytes"])  # drop anything after the last checkpoint
                out.seek(progress["bytes"])
            elif fmt == "csv":
                out.write(csv_header())
            rows = await write_pages(args, iterator, out, fmt, wanted, rows)
    sidecar(args.out).unlink(missing_ok=True)
    summary = {"out": str(args.out), "rows": rows, "resumed": progress is not None}
    if args.json:
        print_json(summary)
    else:
        note = " (resumed)" if progress else ""
        print(f"exported {rows} sessions to {args.out}{note}")
    return 0


async def write_pages(
    args: argparse.Namespace,
    iterator: SessionIterator,
    out: Any,
    fmt: str,
    wanted: dict[str, Any],
    rows: int,
) -> int:
    with progress_bar(not (args.no_progress or args.json)) as bar:
        task = bar.add_task("exporting", total=None, completed=rows) if bar else None
        async with iterator.pages() as pages:
            async for page in pages:
                rows += len(page.data)
                # Disk writes and fsync run in a thread so the pages in flight
                # keep being received meanwhile.
                await asyncio.to_thread(
                    persist,
                    args.out,
                    out,
                    render(page.data, fmt),
                    {
                        "filters": wanted,
                        "rows": rows,
                        "checkpoint": iterator.checkpoint().to_dict(),
                    },
                )
                if bar is not None:
                    bar.update(task, completed=rows, total=(iterator.total or 0) or None)
    return rows
