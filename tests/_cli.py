"""Run ``stateset-voice`` as a real subprocess, the way a user does."""

from __future__ import annotations

import asyncio
import os
import signal
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


async def start_cli(
    emu: Emulator | None, *args: str, output: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    """``stateset-voice ARGS`` started and left running, with ``emu``'s environment.

    For the tests that read its output line by line or interrupt it
    (:func:`interrupt`, or SIGKILL for a crash); ``output`` is where its
    stdout and stderr go (``DEVNULL`` when nothing will read them).
    """
    return await _spawn(*args, env=env_for(emu), output=output)


async def interrupt(proc: asyncio.subprocess.Process, timeout: float = 30) -> tuple[int, str, str]:
    """Ctrl-C: SIGINT to ``proc``, then its exit code and what it printed since."""
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _spawn(
    *args: str, env: dict[str, str], output: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*CLI, *args, env=env, stdout=output, stderr=output)


async def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    proc = await _spawn(*args, env=env)
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
