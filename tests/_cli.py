"""Run ``stateset-voice`` as a real subprocess, the way a user does."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from voice_async.testing import Emulator

CLI = [sys.executable, "-m", "voice_async"]
#: ``stateset-voice call`` with valid numbers, printing the placed call as JSON.
CALL_JSON = ("call", "--to", "+15555555678", "--from", "+15555551234", "--json")


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


async def export_until(
    emu: Emulator, out: Path, *, page_size: int, rows: int, output: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    """``sessions export --out OUT`` in the background, once ``rows`` rows are durably written.

    One page at a time (``--concurrency 1``), so a test that slows the
    emulator's list route can stop the export midway -- SIGKILL for a crash,
    :func:`interrupt` for Ctrl-C.  The progress file is what says rows are
    durable; if it never gets there within 10 s the test's own assertions
    on the output file report it.
    """
    proc = await start_cli(
        emu,
        *("sessions", "export", "--out", str(out), "--page-size", str(page_size)),
        *("--concurrency", "1", "--no-progress"),
        output=output,
    )
    progress = out.with_name(out.name + ".progress.json")
    for _ in range(500):
        if progress.exists() and json.loads(progress.read_text())["rows"] >= rows:
            break
        await asyncio.sleep(0.02)
    return proc


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
