"""The ``stateset-voice`` CLI run as a real subprocess against the emulator."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voice_async.testing import Emulator

from ._cli import (
    CALL_JSON,
    assert_one_error_line,
    cli,
    env_for,
    export_until,
    interrupt,
    run_cli,
    start_cli,
)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=137, seed=5) as emulator:
        yield emulator


async def test_demo_runs_against_the_embedded_emulator() -> None:
    code, out, err = await cli(None, "demo")
    assert code == 0, err
    for step in ("[1] Placing", "[2] Listing", "[3] Paging", "[4] Streaming", "Done."):
        assert step in out
    assert "iterated 241 sessions, each exactly once" in out
    assert "call ended: completed" in out


async def test_demo_refuses_to_dial_sample_numbers_remotely() -> None:
    env = {**env_for(), "STATESET_VOICE_API_KEY": "sk_live_realkey_1234"}
    code, out, err = await run_cli("demo", env=env)
    assert code == 2 and out == ""
    assert_one_error_line(err)
    assert "https://voice.stateset.app" in err
    assert "--to NUMBER --from NUMBER" in err and "--emulator" in err
    assert "sk_live_realkey" not in err


async def test_demo_runs_against_a_loopback_emulator(emu: Emulator) -> None:
    """The emulator a user started (`stateset-voice emulator`, keys exported) is used."""
    code, out, err = await cli(emu, "demo")
    assert code == 0, err
    assert f"Using {emu.base_url}" in out and emu.stats.calls_placed == 1
    assert "iterated 138 sessions, each exactly once" in out


async def test_demo_prints_each_utterance_once() -> None:
    code, out, err = await cli(None, "demo")
    assert code == 0, err
    spoken = [line.split("  ", 2)[-1] for line in out.splitlines() if "agent: " in line]
    assert spoken and len(spoken) == len(set(spoken))


async def test_call_list_get(emu: Emulator) -> None:
    code, out, _ = await cli(emu, *CALL_JSON, "--agent-key", "support_primary")
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
    assert code == 2 and err.startswith("error: --limit: ")
    code, _, err = await cli(emu, "sessions", "bogus")
    assert code == 2
    code, _, err = await cli(
        emu, "call", "--to", "123", "--from", "+15555551234", "--agent-key", "a"
    )
    assert code == 2 and "--to:" in err and emu.stats.calls_placed == 0
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
    proc = await export_until(
        emu, out_file, page_size=10, rows=30, output=asyncio.subprocess.DEVNULL
    )
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


async def start_emulator(*flags: str) -> tuple[asyncio.subprocess.Process, list[str]]:
    """``stateset-voice emulator`` in the background, and its banner's lines."""
    proc = await start_cli(None, "emulator", "--port", "0", *flags)
    assert proc.stdout is not None
    banner: list[str] = []
    while not banner or "Ctrl-C" not in banner[-1]:
        banner.append((await asyncio.wait_for(proc.stdout.readline(), 30)).decode().rstrip("\n"))
    return proc, banner


async def stop(proc: asyncio.subprocess.Process) -> None:
    code, _, _ = await interrupt(proc, timeout=10)
    assert code == 0


async def test_emulator_banner_is_pasteable_and_a_demo_call_takes_seconds() -> None:
    proc, banner = await start_emulator("--sessions", "10000")
    try:
        # Every line is a shell comment or an export: the block pastes into a shell.
        assert all(line.startswith(("# ", "export STATESET_")) for line in banner), banner
        env = dict(line.removeprefix("export ").split("=", 1) for line in banner if "=" in line)
        assert set(env) == {
            "STATESET_VOICE_BASE_URL",
            "STATESET_VOICE_API_KEY",
            "STATESET_ADMIN_API_KEY",
        }
        assert not any("*" in value for value in env.values())  # never a masked key
        from voice_async import AsyncVoiceClient

        async with AsyncVoiceClient(
            api_key=env["STATESET_VOICE_API_KEY"], base_url=env["STATESET_VOICE_BASE_URL"]
        ) as client:
            assert (await client.sessions.list(limit=1)).total == 10000
            call = await client.make_call(
                to="+15555555678", from_="+15555551234", agent_key="support_primary"
            )
            first = last = None
            async for event in client.sessions.events(call.session_id):
                first = first or event.ts
                last = event.ts
        assert first is not None and last is not None
        assert (last - first).total_seconds() >= 2  # the default --event-interval
    finally:
        await stop(proc)


async def test_emulator_never_prints_a_key_it_was_given() -> None:
    proc, banner = await start_emulator("--api-key", "sk_test_mine_abcdef123456")
    try:
        text = "\n".join(banner)
        assert "3456" not in text and "sk_test_mine" not in text
        assert "# STATESET_VOICE_API_KEY: the key you passed with --api-key" in text
        assert "export STATESET_ADMIN_API_KEY=sk_admin_" in text  # generated: shown in full
    finally:
        await stop(proc)
