"""Every example runs against the embedded emulator as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATESET_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_make_call() -> None:
    out = run_example("make_call.py", "--emulator")
    assert "placed call CA" in out and "session vs_" in out and "is queued" in out


def test_list_sessions() -> None:
    out = run_example("list_sessions.py", "--emulator")
    assert "page: 25 sessions at offset 0 of 260" in out and "next page: offset=25" in out
    assert "all 260 sessions by status" in out


def test_watch_session() -> None:
    out = run_example("watch_session.py", "--emulator")
    assert "[session.started]" in out and "caller: " in out
    assert out.rstrip().endswith("last event seq 9") or "call ended; last event seq" in out


def test_admin_runtime_config() -> None:
    out = run_example("admin_runtime_config.py", "--emulator")
    assert "version 1:" in out and "version 2: model=gpt-realtime voice=alloy" in out


def test_background_worker_resumes_after_crash(tmp_path: Path) -> None:
    out = run_example(
        "background_worker.py",
        "--emulator",
        "--simulate-crash",
        "--state",
        str(tmp_path / "state.json"),
    )
    assert "worker crashed" in out and "worker starting at offset 400" in out
    assert "processed 1000 distinct sessions of 1000" in out
    assert not (tmp_path / "state.json").exists()


def test_asyncio_bot_shuts_down_gracefully() -> None:
    out = run_example("asyncio_bot.py", "--emulator", "--run-for", "0.5")
    assert "-> vs_" in out and "shutting down" in out
    assert out.rstrip().endswith("client closed; bye")


@pytest.mark.parametrize(
    "name", sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
)
def test_every_example_has_help(name: str) -> None:
    assert "usage:" in run_example(name, "--help")
