"""``stateset-voice sessions export``: every session to JSONL or CSV, resumably.

The file only ever holds whole lines.  After each page is written and flushed,
a small sidecar (FILE.progress.json) records the file's byte length and the
iterator's checkpoint.  A rerun after a crash or Ctrl-C truncates the file to
that length (dropping any torn last line) and resumes from the checkpoint, so
the finished file is the same as an uninterrupted run's.  The sidecar is
removed when the export completes; an existing finished file is never
overwritten without --force.
"""

from __future__ import annotations

import argparse
import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._common import UsageError, add_filters, filters, make_client, print_json, to_json
from ._output import csv_cell, dumps

if TYPE_CHECKING:
    from .._models import VoiceSession
    from .._pagination import SessionIterator

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
        description=__doc__.split("\n\n", 1)[1].replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", metavar="FILE", required=True, type=Path, help="FILE.jsonl or FILE.csv"
    )
    parser.add_argument(
        "--concurrency", metavar="N", type=int, default=4, help="pages in flight (default 4)"
    )
    parser.add_argument(
        "--page-size", metavar="N", type=int, default=100, help="1 to 100 (default 100)"
    )
    parser.add_argument(
        "--force",
        "--restart",
        dest="force",
        action="store_true",
        help="start over: overwrite FILE and forget an unfinished earlier run",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_filters(parser)
    parser.set_defaults(handler=export)


def file_format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise UsageError(f"--out {out}: must end in .jsonl or .csv")
    return suffix[1:]


def check_destination(out: Path) -> None:
    """Refuse what cannot work before asking the server for anything."""
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; name a file in it, e.g. {out / 'x.jsonl'}")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: directory {out.parent} does not exist")


def render(sessions: tuple[VoiceSession, ...], fmt: str) -> str:
    """The lines for one page, as one string, so a page is written in one go."""
    import csv
    import io

    rows = [to_json(s) for s in sessions]
    if fmt == "jsonl":
        return "".join(dumps(row) + "\n" for row in rows)
    buffer = io.StringIO()
    # RFC 4180 line ends: with "\n" the csv module leaves a lone "\r" in a
    # value unquoted, which splits the row for every reader.
    writer = csv.DictWriter(buffer, CSV_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    for row in rows:
        row["metadata"] = dumps(row.get("metadata") or {})
        writer.writerow({name: csv_cell(row.get(name)) for name in CSV_FIELDS})
    return buffer.getvalue()


def csv_header() -> str:
    return ",".join(CSV_FIELDS) + "\r\n"


def persist(path: Path, out: IO[str], text: str, progress: dict[str, Any]) -> None:
    """Write one page durably, then record how far the file is good."""
    from . import _progress

    out.write(text)
    out.flush()
    try:
        os.fsync(out.fileno())
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # EINVAL: a device or pipe; fsync does not apply
            raise
    _progress.save(path, {**progress, "bytes": out.tell()})


def start_file(path: Path, out: IO[str], fmt: str, initial: dict[str, Any]) -> None:
    """The header, and a sidecar from the start: a run that fails before its
    first page leaves a file to resume, not one that "already exists"."""
    persist(path, out, csv_header() if fmt == "csv" else "", initial)


def state(iterator: SessionIterator, wanted: dict[str, Any], rows: int) -> dict[str, Any]:
    """What the sidecar records besides the byte count: enough to resume exactly."""
    return {"filters": wanted, "rows": rows, "checkpoint": iterator.checkpoint().to_dict()}


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
    from . import _progress  # attrs: not paid by --help

    fmt = file_format(args.out)
    check_destination(args.out)
    wanted = {k: v for k, v in filters(args).items() if v is not None}
    progress = _progress.load(args.out, wanted, force=args.force)
    rows = progress.rows if progress else 0
    args.interrupt_hint = (
        f"what is written so far is kept in {args.out}: rerun the same command to resume"
    )
    async with make_client(args) as client:
        client.config.require_api_key()  # before the file is created or truncated
        iterator = client.sessions.iter(
            page_size=args.page_size,
            concurrency=args.concurrency,
            resume=progress.checkpoint if progress else None,
            **wanted,
        )
        try:
            # A CLI runs one task: opening the file synchronously blocks nobody.
            with open(args.out, "r+" if progress else "w", encoding="utf-8", newline="") as out:  # noqa: ASYNC230
                if progress:
                    out.truncate(progress.bytes)  # drop anything after the last checkpoint
                    out.seek(progress.bytes)
                else:
                    start_file(args.out, out, fmt, state(iterator, wanted, 0))
                rows = await write_pages(args, iterator, out, fmt, wanted, rows)
        except OSError as exc:
            exc.filename = exc.filename or str(args.out)  # a failed write names no file
            raise
    _progress.sidecar(args.out).unlink(missing_ok=True)
    summary = {"out": str(args.out), "rows": rows, "resumed": progress is not None}
    if args.json:
        print_json(summary)
    else:
        print(f"exported {rows} sessions to {args.out}{' (resumed)' if progress else ''}")
    return 0


async def write_pages(
    args: argparse.Namespace,
    iterator: SessionIterator,
    out: IO[str],
    fmt: str,
    wanted: dict[str, Any],
    rows: int,
) -> int:
    import asyncio

    with progress_bar(not (args.no_progress or args.json)) as bar:
        task = bar.add_task("exporting", total=None, completed=rows) if bar else None
        async with iterator.pages() as pages:
            async for page in pages:
                rows += len(page.data)
                # Disk writes and fsync run in a thread so the pages in flight
                # keep being received meanwhile.
                await asyncio.to_thread(
                    persist, args.out, out, render(page.data, fmt), state(iterator, wanted, rows)
                )
                if bar is not None:
                    bar.update(task, completed=rows, total=(iterator.total or 0) or None)
    return rows
