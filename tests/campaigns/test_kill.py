"""kill -9 at random moments, rerun with the same journal: every row placed exactly once."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

from voice_async.testing import Emulator

from .conftest import journal_entries, wait_until

RUNNER = Path(__file__).with_name("_runner.py")
ROWS = 2000  # more than 16 kill rounds can journal: every round is cut short


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


async def _start(emu: Emulator, journal: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "STATESET_VOICE_API_KEY": emu.api_key}
    return await asyncio.create_subprocess_exec(
        sys.executable, str(RUNNER), emu.base_url, str(journal), str(ROWS), env=env
    )


async def test_kill_9_and_resume_places_every_row_exactly_once(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    rng = random.Random(2026)
    kills_mid_run = 0
    async with Emulator() as emu:
        emu.faults.latency(0.01, route="make_call")  # keep calls in flight when it dies
        # Kill at least 3 times, and until a rerun has met the window the test
        # is about (a row placed but not yet journaled when killed): where each
        # kill lands is down to timing, so keep going (bounded).
        for round_ in range(16):
            if kills_mid_run >= 3 and emu.stats.idempotent_replays > 0:
                break
            proc = await _start(emu, journal)
            # Kill once the journal has grown by a random amount (or at once, round 0).
            target = _lines(journal) + (0 if round_ == 0 else rng.randrange(5, 80))

            def reached(target: int = target, proc: asyncio.subprocess.Process = proc) -> bool:
                return _lines(journal) >= target or proc.returncode is not None

            await wait_until(reached)
            await asyncio.sleep(rng.uniform(0, 0.05))
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                kills_mid_run += 1
            await proc.wait()
        assert kills_mid_run >= 3
        assert _lines(journal) - 1 < ROWS  # the kills really interrupted the campaign
        proc = await _start(emu, journal)
        assert await asyncio.wait_for(proc.wait(), 120) == 0
        placed = emu.stats.calls_placed
        sent = emu.stats.requests["make_call"]
        replays = emu.stats.idempotent_replays
    assert placed == ROWS
    entries = journal_entries(journal)
    keys = [e["key"] for e in entries]
    assert sorted(keys) == sorted(f"row-{i}" for i in range(ROWS))  # each row once
    assert all(e["outcome"] == "placed" and e["session_id"] for e in entries)
    assert len({e["session_id"] for e in entries}) == ROWS
    # Rows placed by a killed run but not yet journaled were sent again and
    # answered from the server's idempotency store: the window the test is about.
    assert replays > 0 and sent >= ROWS + replays
