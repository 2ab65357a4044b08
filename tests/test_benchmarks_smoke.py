"""The benchmark runner still runs: a smoke test of its quick mode, not of speed.

The machine running the suite may be loaded, so nothing here asserts a ratio
or a rate: only that the runner starts the lean server, runs each contender,
checks what they received (every event, every session, in order) and prints
its table.  The figures themselves live in ``benchmarks/README.md``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not (ROOT / "benchmarks").is_dir(), reason="benchmarks/ ships with the repository only"
)


def _run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    # 1 means "a target was missed", which a loaded machine may cause; a
    # crashed benchmark shows as a "FAILED:" row and a broken runner as 2+.
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "FAILED:" not in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def _table(only: str) -> str:
    out = _run("benchmarks", "--quick", "--only", only)
    return out[out.index("case  metric") :]


def _missing(table: str, metrics: tuple[str, ...]) -> list[str]:
    return [metric for metric in metrics if metric not in table]


def test_runner_quick_mode_reports_every_contender() -> None:
    table = _table("P1,P2,P3,D1")
    assert not _missing(
        table,
        (
            "make_call, 1 in flight",
            "make_call, 32 in flight",
            "export, iter c=8 vs naive",
            "export, client CPU per session",
            "events streamed, typed",
            "decode VoiceSession",
        ),
    )
    assert "raw aiohttp" in table and "min-max" in table and "CPU us/op" in table
    # P2: every variant exported the same sessions in the same order.
    assert "same sessions+order" in table and "DISAGREE" not in table


def test_emulator_scale_rows_are_reported() -> None:
    table = _table("E1")
    assert not _missing(
        table,
        (
            "list page unfiltered, GET over loopback",
            "list page filtered by status, emulator's own cost",
            "memory per placed call",
            "idempotency keys kept",
        ),
    )
