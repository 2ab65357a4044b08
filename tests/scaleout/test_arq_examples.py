"""The arq examples run: a local demo with real workers, and a worker of your own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ._procs import redis_binary

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_enqueue_demo_runs_everything_locally() -> None:
    redis_binary()  # a clear failure if redis-server is missing
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATESET_", "VOICE_ASYNC"))}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "arq_enqueue.py"), "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    assert "campaign 'demo': 120 rows, 120 placed, 0 failed, 0 pending" in out
    assert "the emulator placed 120 calls for 120 rows" in out
    assert "windows done: [" in out and "merged " in out
    assert "your own job on the same workers: " in out


def test_enqueue_needs_a_command() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "arq_enqueue.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "give a command, or --demo" in done.stderr
