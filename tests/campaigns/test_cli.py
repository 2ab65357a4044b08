"""``stateset-voice campaign`` as a real subprocess against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from voice_async.testing import Emulator

from .._cli import cli, interrupt, start_cli
from .conftest import journal_entries, wait_until

FLAGS = ("--agent-key", "support_primary", "--from", "+15555550100")


def _csv(path: Path, n: int, *, bad_line: int | None = None) -> Path:
    lines = ["to,id,order"]
    for i in range(n):
        to = "12345" if i + 2 == bad_line else f"+1555{i:07d}"
        lines.append(f"{to},r{i},A-{i}")
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_csv_run_records_a_bad_number_and_goes_on(tmp_path: Path) -> None:
    rows = _csv(tmp_path / "rows.csv", 12, bad_line=4)
    journal = tmp_path / "run.jsonl"
    run = ("campaign", "run", str(rows), "--campaign-id", "c1", *FLAGS, "--journal", str(journal))
    async with Emulator() as emu:
        code, out, err = await cli(emu, *run)
        assert code == 1, err  # a row failed
        assert "line 4: to: must be an E.164 number" in err
        assert "11 placed, 1 failed (InvalidRequestError 1)" in out
        assert emu.stats.calls_placed == 11
        entries = {e["key"]: e for e in journal_entries(journal)}
        assert entries["r2"]["outcome"] == "failed" and entries["r2"]["attempts"] == 0
        placed = emu.session(entries["r0"]["session_id"])
        assert placed is not None and placed["metadata"] == {"order": "A-0"}
        code, out, _ = await cli(emu, *run, "--no-progress")  # the same run again
        assert code == 0 and "12 skipped" in out and emu.stats.calls_placed == 11
        code, out, _ = await cli(emu, "campaign", "status", str(journal), "--json")
    status = json.loads(out)
    assert (status["campaign_id"], status["placed"], status["failed"]) == ("c1", 11, 1)


async def test_jsonl_rows_carry_their_own_from_and_agent(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"to": "+15555550001", "from": "+15555550999", "agent_key": "sales", "tier": 2}\n'
        '\n{"to": "+15555550002", "id": "second"}\n'
    )
    async with Emulator() as emu:
        code, out, err = await cli(
            emu, "campaign", "run", str(rows), "--campaign-id", "j", *FLAGS, "--json"
        )
        assert code == 0, err
        summary = json.loads(out.splitlines()[-1])
        assert summary["placed"] == 2
        journal = Path(summary["journal"])
        sessions = [emu.session(e["session_id"]) for e in journal_entries(journal)]
    assert journal == tmp_path / "rows.jsonl.j.journal.jsonl"
    by_to = {s["to"]: s for s in sessions if s is not None}
    assert by_to["+15555550001"]["from"] == "+15555550999"
    assert by_to["+15555550001"]["agent_key"] == "sales"
    assert by_to["+15555550001"]["metadata"] == {"tier": 2}
    assert by_to["+15555550002"]["agent_key"] == "support_primary"


async def test_bad_files_get_one_line_and_exit_2(tmp_path: Path) -> None:
    no_to = tmp_path / "rows.csv"
    no_to.write_text("number,id\n+15555550001,1\n")
    code, out, err = await cli(None, "campaign", "run", str(no_to), "--campaign-id", "x", *FLAGS)
    assert (code, out) == (2, "") and err.strip() == f"error: {no_to}: missing 'to' column"
    code, _, err = await cli(
        None, "campaign", "run", str(tmp_path / "x.txt"), "--campaign-id", "x", *FLAGS
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = await cli(None, "campaign", "status", str(tmp_path / "none.jsonl"))
    assert code == 2 and "no such file" in err


async def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path) -> None:
    rows = _csv(tmp_path / "rows.csv", 200)
    journal = tmp_path / "run.jsonl"
    args = (
        "campaign",
        "run",
        str(rows),
        "--campaign-id",
        "c",
        *FLAGS,
        "--journal",
        str(journal),
        "--rate",
        "40",
        "--no-progress",
    )
    async with Emulator() as emu:
        proc = await start_cli(emu, *args)
        await wait_until(lambda: emu.stats.calls_placed >= 20)
        code, _, err = await interrupt(proc, timeout=60)
        assert code == 130, err
        assert "interrupted:" in err and "Resume with: stateset-voice campaign run" in err
        done = len(journal_entries(journal))
        assert 20 <= done < 200
        code, out, _ = await cli(emu, *args[:-3])  # resume (at full speed)
        assert code == 0 and f"{200 - done} placed" in out
        assert emu.stats.calls_placed == 200
    assert sorted(e["key"] for e in journal_entries(journal)) == sorted(f"r{i}" for i in range(200))
