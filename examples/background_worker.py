"""A background worker that processes every session, with bounded concurrency,
and resumes where it stopped after a crash.

It walks the sessions page by page, handles each page's sessions concurrently
(at most ``--concurrency`` at a time), and saves the iterator's checkpoint to
``--state`` after each page.  A restarted worker resumes from the checkpoint:
at most the page in progress is processed again, so make processing
idempotent.

    python examples/background_worker.py --state worker.json
    python examples/background_worker.py --emulator --simulate-crash
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

from _shared import open_client, parser

from voice_async import AsyncVoiceClient, Checkpoint, VoiceSession


class Crash(Exception):
    """Stands in for a worker process dying mid-run."""


async def process(session: VoiceSession, done: dict[str, int]) -> None:
    await asyncio.sleep(random.uniform(0, 0.002))  # e.g. write to your warehouse
    done[session.id] = done.get(session.id, 0) + 1


def load_checkpoint(state: Path) -> Checkpoint | None:
    return Checkpoint.from_dict(json.loads(state.read_text())) if state.exists() else None


def save_checkpoint(state: Path, checkpoint: Checkpoint | None) -> None:
    """Write-then-rename, so a crash mid-write never leaves a torn state file."""
    if checkpoint is None:
        state.unlink(missing_ok=True)
        return
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps(checkpoint.to_dict()))
    tmp.replace(state)


async def run_worker(
    client: AsyncVoiceClient,
    state: Path,
    done: dict[str, int],
    concurrency: int,
    crash_after: int | None = None,
) -> None:
    resume = await asyncio.to_thread(load_checkpoint, state)
    print(f"worker starting at offset {resume.offset if resume else 0}")
    limit = asyncio.Semaphore(concurrency)

    async def handle(session: VoiceSession) -> None:
        async with limit:
            await process(session, done)

    sessions = client.sessions.iter(limit=50, resume=resume)
    async with sessions.pages() as pages:
        async for page in pages:
            await asyncio.gather(*(handle(s) for s in page.data))
            await asyncio.to_thread(save_checkpoint, state, sessions.checkpoint())
            if crash_after is not None and len(done) >= crash_after:
                raise Crash(f"simulated crash after {len(done)} sessions")
    await asyncio.to_thread(save_checkpoint, state, None)  # done: next run starts afresh


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--state", type=Path, default=Path("worker_state.json"))
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument(
        "--simulate-crash",
        action="store_true",
        help="crash after ~40%% of the work, then restart from the checkpoint",
    )
    args = p.parse_args()
    done: dict[str, int] = {}
    async with open_client(args, sessions=1000, seed=11) as client:
        total = (await client.sessions.list(limit=1)).total
        crash_after = int((total or 1000) * 0.4) if args.simulate_crash else None
        try:
            await run_worker(client, args.state, done, args.concurrency, crash_after)
        except Crash as exc:
            print(f"worker crashed: {exc}; restarting from {args.state}")
            await run_worker(client, args.state, done, args.concurrency)
    again = sum(1 for n in done.values() if n > 1)
    print(f"processed {len(done)} distinct sessions of {total}; {again} processed twice")


if __name__ == "__main__":
    asyncio.run(main())
