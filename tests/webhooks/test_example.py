"""examples/webhook_receiver.py --self-test, as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ._support import TOKEN

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
def test_example_self_test(mode: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            str(ROOT / "examples" / "webhook_receiver.py"),
            "--self-test",
            "--mode",
            mode,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "TWILIO_AUTH_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "signed request:   200" in out and "<Stream url=" in out
    assert ("[307]" in out) is (mode == "redirect")
    assert "tampered request: 401" in out
    assert "replayed request: 401" in out
    assert "inbound sessions created on StateSet: 1" in out
    assert "self-test passed" in out
    assert TOKEN not in out + result.stderr
    # stderr holds only the handler's two warnings (no warning, leak or traceback)
    assert [line.split(" for ")[0] for line in result.stderr.splitlines()] == [
        "rejected replayed Twilio webhook",
        "rejected Twilio webhook",
    ]
