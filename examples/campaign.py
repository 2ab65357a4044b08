"""Dial a list exactly once, at the tenant's rate, and resume after a crash.

python examples/campaign.py --emulator                 # embedded emulator (limit 20 calls/s)
STATESET_VOICE_API_KEY=... python examples/campaign.py --journal run.jsonl --rows 3

The first pass stops after --stop-after results, as a crash would; the second
pass, with the same campaign id and journal, skips what was placed and dials
the rest. The emulator refuses more than 20 calls/s (429): the campaign slows
down instead of failing rows.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

from _shared import SAMPLE_CALL, open_client, parser

from voice_async import AsyncVoiceClient, CallRow


def reminder_rows(n: int) -> Iterator[CallRow]:
    """Rows are read lazily: a generator over a file or a database cursor works too."""
    for i in range(n):
        yield CallRow(
            to=f"+1555555{i:04d}",
            from_=SAMPLE_CALL["from_"],
            agent_key=SAMPLE_CALL["agent_key"],
            metadata={"appointment": f"APT-{i:04d}"},
            key=f"appointment-{i:04d}",  # your own id: stable across runs
        )


async def one_pass(
    client: AsyncVoiceClient, args: argparse.Namespace, journal: Path, stop_after: int
) -> None:
    run = client.campaigns.run(
        reminder_rows(args.rows),
        campaign_id=args.campaign_id,
        concurrency=8,
        journal=journal,
    )
    async with run:
        async for result in run:
            if result.outcome == "failed":
                print(f"  {result.key}: failed: {result.error}")
            if stop_after and run.summary.total >= stop_after:
                print(f"  ... stopping after {run.summary.total} rows, as a crash would")
                break
    s = run.summary
    print(
        f"  placed {s.placed}, failed {s.failed}, skipped (already done) {s.skipped_done}; "
        f"{s.attempts} requests"
    )


async def main() -> int:
    p = parser(__doc__)
    p.add_argument("--rows", type=int, default=60)
    p.add_argument("--campaign-id", default="reminders-demo")
    p.add_argument("--journal", type=Path, help="outcome file (default: a temporary one)")
    p.add_argument("--stop-after", type=int, default=25)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        journal = args.journal or Path(tmp) / "run.jsonl"
        async with open_client(args, rate_limit=20) as client:
            print(f"first pass over {args.rows} rows:")
            await one_pass(client, args, journal, args.stop_after)
            print("second pass, same campaign and journal:")
            await one_pass(client, args, journal, 0)
        lines = journal.read_text().splitlines()[1:]
        print(f"journal {journal.name}: {len(lines)} outcomes, one per row")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
