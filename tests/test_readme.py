"""The README's code must stay true: every Python block compiles, the runnable
ones run against the emulator, and the two first commands are the ones CI uses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from voice_async.testing import Emulator

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_compiles(index: int) -> None:
    # Fragments use top-level `await` as in an async REPL / notebook.
    compile(
        BLOCKS[index],
        f"README block {index}",
        "exec",
        flags=__import__("ast").PyCF_ALLOW_TOP_LEVEL_AWAIT,
    )


async def test_quickstart_runs_against_the_emulator() -> None:
    quickstart = next(b for b in BLOCKS if "asyncio.run(main())" in b)
    async with Emulator() as emu:
        env = {
            **os.environ,
            "STATESET_VOICE_API_KEY": emu.api_key,
            "STATESET_VOICE_BASE_URL": emu.base_url,
        }
        proc = await __import__("asyncio").create_subprocess_exec(
            sys.executable,
            "-c",
            quickstart,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith("1 session.started") and "session.ended" in lines[-1]


async def test_testing_section_example_passes() -> None:
    block = next(b for b in BLOCKS if "async def test_my_worker" in b)
    namespace: dict[str, object] = {}
    exec(compile(block, "README testing block", "exec"), namespace)
    await namespace["test_my_worker"]()  # type: ignore[operator]


def test_first_commands_are_demo_and_tests() -> None:
    first_screen = README.split("## ", 1)[0]
    assert "pip install -e . && stateset-voice demo" in first_screen
    test_command = "pip install -e '.[test]' && python -m pytest -q"
    assert test_command in first_screen
    assert test_command in (ROOT / ".ci" / "run").read_text()
