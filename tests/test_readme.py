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


async def test_advanced_section_runs_against_the_emulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every block of "## Advanced", in order, with one ``client`` on the emulator."""
    import ast

    from voice_async import AsyncVoiceClient
    from voice_async.contrib.opentelemetry import VoiceAsyncInstrumentor

    section = README.split("## Advanced", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 4
    async with Emulator(tenant_id="tn_123") as emu:
        client = AsyncVoiceClient(
            api_key=emu.api_key, admin_key=emu.admin_key, base_url=emu.base_url
        )
        namespace: dict[str, object] = {"client": client}
        try:
            for index, block in enumerate(blocks):
                if "event_hooks" in block:  # one retry for the hooks to see
                    emu.faults.script("503", route="get_runtime_config")
                code = compile(
                    block, f"README advanced {index}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
                )
                result = eval(code, namespace)
                if result is not None:
                    await result
        finally:
            if VoiceAsyncInstrumentor().is_instrumented_by_opentelemetry:
                VoiceAsyncInstrumentor().uninstrument()
            await client.aclose()
        # Three calls placed (options, raw, tracing); the raw block's second was a replay.
        assert emu.stats.calls_placed == 3 and emu.stats.idempotent_replays == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("201 req_") and out[1] == '"1" 1'
    template = "admin.get_runtime_config /api/v1/admin/tenants/{tenant_id}/runtime-config"
    assert out[2].startswith(f"{template} 503 ") and out[4].startswith(f"{template} 200 ")
    assert out[3] == "retrying admin.get_runtime_config after InternalServerError"  # 5xx
