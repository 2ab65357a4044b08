"""``stateset-voice campaign``: dial a CSV/JSONL list exactly once, resumably.

``campaign run ROWS --campaign-id ID`` dials every row (columns ``to``,
optional ``from``, ``agent_key``, ``id``; other columns become metadata) at
``--rate`` calls/s with ``--concurrency`` requests in flight, recording each
outcome in a journal (default ``ROWS.ID.journal.jsonl``).  Run the same
command again to resume: rows already placed are skipped, the rest are sent,
and no row is ever dialled twice.  ``campaign status JOURNAL`` summarises a
journal.  Exit code: 0 when every row is placed (or was already), 1 when some
rows failed, 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._common import EXIT_ERROR, EXIT_OK, make_client, print_json

if TYPE_CHECKING:  # the SDK is imported when a command runs, not for --help
    from .._campaign import CampaignRun
    from .._campaign_core import CampaignResult, CampaignSummary
    from ._rows import RowFile

EXIT_INTERRUPTED = 130
#: Failures printed one per line; after that only the count (the journal has all).
MAX_PRINTED_FAILURES = 20


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    parser = groups.add_parser(
        "campaign",
        help="dial a list of numbers exactly once (resumable)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", parents=[common], help="dial every row of a CSV/JSONL file")
    run.add_argument("rows", type=Path, help="ROWS.csv or ROWS.jsonl")
    run.add_argument("--campaign-id", required=True, help="names the campaign; reuse to resume")
    run.add_argument("--agent-key", help="agent for rows without an agent_key column")
    run.add_argument("--from", dest="from_", help="caller id for rows without a from column")
    run.add_argument("--rate", type=float, help="calls per second (default: adapt to 429s)")
    run.add_argument("--concurrency", type=int, default=10, help="requests in flight (10)")
    run.add_argument("--journal", type=Path, help="outcome file (default ROWS.ID.journal.jsonl)")
    run.add_argument("--follow", action="store_true", help="wait for each call to end")
    run.add_argument("--retry-failed", action="store_true", help="re-attempt rows that failed")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=campaign_run)
    status = actions.add_parser("status", parents=[common], help="summarise a journal")
    status.add_argument("journal", type=Path)
    status.set_defaults(handler=campaign_status)


def default_journal(rows: Path, campaign_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", campaign_id)
    return rows.with_name(f"{rows.name}.{safe}.journal.jsonl")


def describe(summary: CampaignSummary) -> str:
    parts = [f"{summary.placed} placed", f"{summary.failed} failed"]
    if summary.failed_by_error:
        kinds = ", ".join(f"{k} {v}" for k, v in summary.failed_by_error.most_common())
        parts[-1] += f" ({kinds})"
    parts.append(f"{summary.skipped_done} skipped (already done)")
    text = ", ".join(parts)
    if summary.statuses:
        average = summary.average_duration
        text += f"; {summary.completed} completed"
        text += f", average duration {average:.1f} s" if average is not None else ""
    return text


def _failure_line(result: CampaignResult, rows: RowFile) -> str:
    where = rows.bad_lines.get(result.key)
    if where is not None:
        return f"line {where[0]}: {where[1]} (recorded failed)"
    return f"row {result.key}: {result.error} (recorded failed)"


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} calls/s  {task.fields[failed]} failed"),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout stays for the summary (and --json)
        transient=False,
    ) as bar:
        bar.add_task("dialling", total=total or None, rate="-", failed=0)
        yield bar


def _resume_hint(args: argparse.Namespace, journal: Path) -> str:
    command = [
        "stateset-voice",
        "campaign",
        "run",
        str(args.rows),
        "--campaign-id",
        args.campaign_id,
        "--journal",
        str(journal),
    ]
    for flag, value in (
        ("--agent-key", args.agent_key),
        ("--from", args.from_),
        ("--rate", args.rate),
        ("--concurrency", args.concurrency),
    ):
        if value is not None:
            command += [flag, str(value)]
    command += ["--follow"] * args.follow
    return shlex.join(command)


async def _consume(run: CampaignRun, rows: RowFile, bar: Any, quiet: bool) -> None:
    printed = 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    async for result in run:
        if result.outcome == "failed" and not quiet:
            printed += 1
            if printed <= MAX_PRINTED_FAILURES:
                _say(bar, _failure_line(result, rows))
        if bar is not None:
            summary = run.summary
            elapsed = max(loop.time() - started, 1e-6)
            bar.update(
                0,
                completed=summary.total,
                failed=summary.failed,
                rate=f"{summary.placed / elapsed:.1f}",
            )
    if printed > MAX_PRINTED_FAILURES and not quiet:
        print(f"... and {printed - MAX_PRINTED_FAILURES} more failures", file=sys.stderr)


def _say(bar: Any, line: str) -> None:
    """A line on stderr; above the progress bar while one is drawn."""
    if bar is None:
        print(line, file=sys.stderr)
    else:
        bar.console.print(line, markup=False, highlight=False)


def _interrupt_on_sigint(task: asyncio.Task[Any], flag: list[bool]) -> None:
    def interrupt() -> None:
        flag.append(True)
        task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupt)


async def campaign_run(args: argparse.Namespace) -> int:
    from ._rows import RowFile

    rows = RowFile(args.rows, from_=args.from_, agent_key=args.agent_key)
    journal = args.journal or default_journal(args.rows, args.campaign_id)
    interrupted: list[bool] = []
    task = asyncio.current_task()
    assert task is not None
    async with make_client(args) as client:
        run = client.campaigns.run(
            rows.rows(),
            campaign_id=args.campaign_id,
            rate=args.rate,
            concurrency=args.concurrency,
            journal=journal,
            retry_failed=args.retry_failed,
            follow=args.follow,
        )
        _interrupt_on_sigint(task, interrupted)
        try:
            async with run:
                total = rows.count() if not (args.no_progress or args.json) else 0
                with _progress(not (args.no_progress or args.json), total) as bar:
                    await _consume(run, rows, bar, args.json)
        except asyncio.CancelledError:
            if not interrupted:
                raise
            if hasattr(task, "uncancel"):
                task.uncancel()
            print(
                f"interrupted: {describe(run.summary)}; outcomes are in {journal}.\n"
                f"Resume with: {_resume_hint(args, journal)}",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
    return _report(args.campaign_id, run.summary, journal, args.json)


def _report(campaign_id: str | None, summary: CampaignSummary, journal: Path, as_json: bool) -> int:
    if as_json:
        print_json({"campaign_id": campaign_id, "journal": str(journal), **summary.as_dict()})
    else:
        print(f"campaign {campaign_id}: {describe(summary)}")
        print(f"journal: {journal}")
    return EXIT_ERROR if summary.failed else EXIT_OK


async def campaign_status(args: argparse.Namespace) -> int:
    from .._errors import InvalidRequestError
    from .._journal import summarize

    if not args.journal.is_file():
        raise InvalidRequestError("journal", f"{args.journal}: no such file")
    campaign_id, summary = await asyncio.to_thread(summarize, args.journal)
    return _report(campaign_id, summary, args.journal, args.json)
