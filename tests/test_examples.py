"""Every example runs against the embedded emulator as a subprocess."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from voice_async.testing import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def start_example(name: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("STATESET_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env={**clean_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def run_example(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    code, out, err = start_example(name, *args, env=env)
    assert code == 0, err
    return out


def test_make_call() -> None:
    out = run_example("make_call.py", "--emulator")
    assert "placed call CA" in out and "session vs_" in out and "is queued" in out


def test_list_sessions() -> None:
    out = run_example("list_sessions.py", "--emulator")
    assert "page: 25 sessions at offset 0 of 260" in out and "next page: offset=25" in out
    assert "all 260 sessions by status" in out


def test_watch_session_prints_each_utterance_once() -> None:
    out = run_example("watch_session.py", "--emulator")
    assert "[session.started]" in out and "caller: " in out and "agent: " in out
    spoken = [line for line in out.splitlines() if line.startswith(("  caller:", "  agent:"))]
    assert len(spoken) == len(set(spoken))
    assert "call ended; last event seq 9" in out


REMOTE = {
    "STATESET_VOICE_API_KEY": "sk_live_example_1234",
    "STATESET_VOICE_BASE_URL": "https://voice.invalid",
}


@pytest.mark.parametrize(
    "argv",
    [["make_call.py"], ["watch_session.py"], ["asyncio_bot.py", "--run-for", "1"]],
    ids=lambda argv: argv[0],
)
def test_examples_never_dial_sample_numbers_remotely(argv: list[str]) -> None:
    code, out, err = start_example(*argv, env=REMOTE)
    assert code == 2
    assert err.startswith(
        "error: refusing to dial made-up sample numbers through https://voice.invalid"
    )
    assert "--to NUMBER --from NUMBER" in err and "--emulator" in err
    assert "sk_live_example" not in out + err


async def test_make_call_key_covers_every_input() -> None:
    async with Emulator() as emu:
        env = {"STATESET_VOICE_API_KEY": emu.api_key, "STATESET_VOICE_BASE_URL": emu.base_url}
        run = functools.partial(asyncio.to_thread, run_example, "make_call.py", env=env)
        await run()
        await run("--to", "+15555550199", "--from", "+15555551234")  # another callee: a new call
        assert emu.stats.calls_placed == 2
        await run("--to", "+15555550199", "--from", "+15555551234")  # the same again: a replay
        assert emu.stats.calls_placed == 2 and emu.stats.idempotent_replays == 1


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
