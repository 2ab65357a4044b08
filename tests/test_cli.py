"""The ``stateset-voice`` CLI run as a real subprocess against the emulator."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voice_async.testing import Emulator

CLI = [sys.executable, "-m", "voice_async"]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=137, seed=5) as emulator:
        yield emulator


def env_for(emu: Emulator | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATESET_")}
    if emu is not None:
        env.update(
            STATESET_VOICE_API_KEY=emu.api_key,
            STATESET_ADMIN_API_KEY=emu.admin_key,
            STATESET_VOICE_BASE_URL=emu.base_url,
        )
    return env


async def cli(emu: Emulator | None, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        env=env_for(emu),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_demo_runs_against_the_embedded_emulator() -> None:
    code, out, err = await cli(None, "demo")
    assert code == 0, err
    for step in ("[1] Placing", "[2] Listing", "[3] Paging", "[4] Streaming", "Done."):
        assert step in out
    assert "iterated 241 sessions, each exactly once" in out
    assert "call ended: completed" in out


async def test_demo_refuses_the_real_service_without_real_numbers() -> None:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "demo",
        env={**env_for(None), "STATESET_VOICE_API_KEY": "sk_live_realkey_1234"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and b"pass real numbers" in out
    assert b"sk_live_realkey" not in out


async def test_call_list_get(emu: Emulator) -> None:
    code, out, _ = await cli(
        emu,
        "call",
        "--to",
        "+15555555678",
        "--from",
        "+15555551234",
        "--agent-key",
        "support_primary",
        "--json",
    )
    assert code == 0
    placed = json.loads(out)
    assert emu.stats.calls_placed == 1
    code, out, _ = await cli(emu, "sessions", "list", "--limit", "5", "--json")
    page = json.loads(out)
    assert code == 0 and page["total"] == 138 and len(page["data"]) == 5
    assert page["data"][0]["id"] == placed["session_id"] and page["next_offset"] == 5
    code, out, _ = await cli(emu, "sessions", "list", "--limit", "3")
    assert code == 0 and placed["session_id"] in out and "of 138" in out
    code, out, _ = await cli(emu, "sessions", "get", placed["session_id"], "--json")
    assert code == 0 and json.loads(out)["id"] == placed["session_id"]


async def test_errors_are_one_line_with_exit_codes(emu: Emulator) -> None:
    code, out, err = await cli(emu, "sessions", "get", "vs_MISSING")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "404" in err and "request_id=req_" in err
    code, _, err = await cli(emu, "sessions", "list", "--limit", "101")
    assert code == 2 and err.startswith("error: limit")
    code, _, err = await cli(emu, "sessions", "bogus")
    assert code == 2
    code, _, err = await cli(
        emu, "call", "--to", "123", "--from", "+15555551234", "--agent-key", "a"
    )
    assert code == 2 and "to:" in err and emu.stats.calls_placed == 0
    assert "Traceback" not in err and emu.api_key not in err


async def test_admin_config(emu: Emulator) -> None:
    code, out, _ = await cli(emu, "admin", "config", "get", emu.tenant_id, "--json")
    assert code == 0 and json.loads(out)["version"] == 1
    code, out, _ = await cli(
        emu,
        "admin",
        "config",
        "set",
        emu.tenant_id,
        "--voice",
        "verse",
        "--if-match",
        "1",
        "--json",
    )
    assert code == 0 and json.loads(out)["voice"] == "verse"
    code, _, err = await cli(
        emu, "admin", "config", "set", emu.tenant_id, "--voice", "x", "--if-match", "1"
    )
    assert code == 1 and "409" in err
    assert emu.admin_key not in out + err


async def test_watch_prints_the_conversation(emu: Emulator) -> None:
    sid = emu.add_event_session(12)
    code, out, _ = await cli(emu, "sessions", "watch", sid)
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 12
    assert lines[0].startswith("#1 ") and "call ended" in lines[-1]
    code, out, _ = await cli(emu, "sessions", "watch", sid, "--after-seq", "10", "--json")
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [11, 12]


async def test_export_jsonl_and_csv(emu: Emulator, tmp_path: Path) -> None:
    out_file = tmp_path / "all.jsonl"
    code, out, _ = await cli(
        emu,
        "sessions",
        "export",
        "--out",
        str(out_file),
        "--concurrency",
        "4",
        "--page-size",
        "20",
        "--json",
    )
    assert code == 0 and json.loads(out)["rows"] == 137
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 137
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
    assert not (tmp_path / "all.jsonl.progress.json").exists()
    csv_file = tmp_path / "done.csv"
    code, _, _ = await cli(
        emu, "sessions", "export", "--out", str(csv_file), "--direction", "inbound", "--no-progress"
    )
    with csv_file.open() as f:
        table = list(csv.DictReader(f))
    assert code == 0 and table and all(r["direction"] == "inbound" for r in table)
    assert {r["id"] for r in table} <= set(ids)


async def test_export_resumes_after_a_crash(emu: Emulator, tmp_path: Path) -> None:
    out_file = tmp_path / "sessions.jsonl"
    progress = tmp_path / "sessions.jsonl.progress.json"
    emu.faults.latency(0.1, route="list_sessions")
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "sessions",
        "export",
        "--out",
        str(out_file),
        "--page-size",
        "10",
        "--concurrency",
        "1",
        "--no-progress",
        env=env_for(emu),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    for _ in range(200):  # wait until a few pages are durably written
        if progress.exists() and json.loads(progress.read_text())["rows"] >= 30:
            break
        await asyncio.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    emu.faults.clear()
    rows_before = len(out_file.read_text().splitlines())
    assert 30 <= rows_before < 137
    with out_file.open("a") as f:
        f.write('{"id": "torn')  # a crash mid-write leaves half a line
    emu.insert_sessions(5)  # new calls arrive meanwhile: not part of the snapshot
    code, out, _ = await cli(
        emu, "sessions", "export", "--out", str(out_file), "--page-size", "10", "--json"
    )
    assert code == 0 and json.loads(out)["resumed"] is True
    lines = out_file.read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines]  # every line parses
    assert len(ids) == len(set(ids)) == 137
    assert not progress.exists()


async def test_emulator_command_serves_until_ctrl_c() -> None:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "emulator",
        "--port",
        "0",
        "--sessions",
        "10000",
        env=env_for(None),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    assert "running at http://127.0.0.1:" in first
    base_url = first.rsplit(" ", 1)[-1].strip()
    keys = {}
    while len(keys) < 2:
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        if line.startswith("export STATESET_") and "KEY=" in line:
            name, value = line.removeprefix("export ").split("=", 1)
            keys[name] = value
    from voice_async import AsyncVoiceClient

    async with AsyncVoiceClient(api_key=keys["STATESET_VOICE_API_KEY"], base_url=base_url) as c:
        assert (await c.sessions.list(limit=1)).total == 10000
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0
