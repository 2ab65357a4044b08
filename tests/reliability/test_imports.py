"""``import voice_async`` stays light: optional heavy dependencies load on first use.

twilio (webhook validation), rich (CLI output) and websockets (live events)
are imported only by the features that need them.  Checked in a fresh
interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LAZY = (
    "aiohttp",
    "cattrs",
    "twilio",
    "rich",
    "websockets",
    "voice_async.testing._emulator",
    "hypothesis",
)


def modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_voice_async_loads_no_optional_dependency() -> None:
    loaded = modules_after("import voice_async")
    assert "voice_async" in loaded  # the probe works
    heavy = sorted(m for m in loaded if m.split(".")[0] in LAZY or m in LAZY)
    assert heavy == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("import voice_async._events", "websockets"),
        ("import voice_async.webhooks", "twilio"),
        ("from voice_async.testing import Emulator", "voice_async.testing._emulator"),
    ],
)
def test_the_probe_can_see_lazy_imports(statement: str, expected: str) -> None:
    """Negative control: importing the feature does load its dependency."""
    assert expected in modules_after(statement)
