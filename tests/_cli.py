"""Run ``stateset-voice`` as a real subprocess, the way a user does."""

from __future__ import annotations

import asyncio
import os
import sys

from voice_async.testing import Emulator

CLI = [sys.executable, "-m", "voice_async"]


def env_for(emu: Emulator | None = None, base_url: str | None = None) -> dict[str, str]:
    """The test's environment without any STATESET_* variable, plus the emulator's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATESET_")}
    if emu is not None:
        env.update(
            STATESET_VOICE_API_KEY=emu.api_key,
            STATESET_ADMIN_API_KEY=emu.admin_key,
            STATESET_VOICE_BASE_URL=emu.base_url,
        )
    if base_url is not None:
        env.update(STATESET_VOICE_API_KEY="sk_test_hostile_1234", STATESET_VOICE_BASE_URL=base_url)
    return env


async def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def cli(emu: Emulator | None, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    return await run_cli(*args, env=env_for(emu), timeout=timeout)


def assert_one_error_line(err: str) -> None:
    """The CLI's failure contract: exactly one line on stderr, ``error: ...``."""
    assert err.startswith("error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
