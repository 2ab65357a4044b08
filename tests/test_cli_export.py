"""``sessions export`` failure paths: one line on stderr, an exit code, no traceback,
and never a file that is silently wrong (padded, overwritten, or a spreadsheet bomb)."""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from voice_async.testing import Emulator

from ._cli import assert_one_error_line, cli, env_for, export_until, interrupt, run_cli


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=57, seed=3) as emulator:
        yield emulator


async def export(emu: Emulator, out: Path, *extra: str) -> tuple[int, str, str]:
    return await cli(emu, "sessions", "export", "--out", str(out), "--no-progress", *extra)


async def test_out_in_a_missing_directory(emu: Emulator, tmp_path: Path) -> None:
    code, _, err = await export(emu, tmp_path / "nope" / "s.jsonl")
    assert code == 2 and "does not exist" in err
    assert_one_error_line(err)
    assert sum(emu.stats.requests.values()) == 0  # refused before asking the server


async def test_out_is_a_directory(emu: Emulator, tmp_path: Path) -> None:
    folder = tmp_path / "dir.jsonl"
    folder.mkdir()
    code, _, err = await export(emu, folder)
    assert code == 2 and "is a directory" in err
    assert_one_error_line(err)


async def test_out_not_writable(emu: Emulator, tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes anywhere chmod allows; sysfs refuses even root
        target = Path("/sys/voice_async_export.jsonl")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "s.jsonl"
    code, _, err = await export(emu, target)
    assert code == 1 and "Permission denied" in err and str(target) in err
    assert_one_error_line(err)


async def test_disk_full(emu: Emulator, tmp_path: Path) -> None:
    full = tmp_path / "full.jsonl"
    full.symlink_to("/dev/full")  # every write fails with ENOSPC
    code, _, err = await export(emu, full, "--force")
    assert code == 1 and "No space left on device" in err and "rerun" in err
    assert_one_error_line(err)


async def test_a_finished_export_is_not_overwritten(emu: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    out.write_text("precious\n")
    code, _, err = await export(emu, out)
    assert code == 2 and "already exists" in err and "--force" in err
    assert_one_error_line(err)
    assert out.read_text() == "precious\n"
    code, _, err = await export(emu, out, "--force")
    assert code == 0, err
    assert len(out.read_text().splitlines()) == 57


async def test_a_run_that_fails_at_once_can_be_rerun(emu: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    env = {**env_for(emu), "STATESET_VOICE_API_KEY": "sk_test_wrong_key_0000"}
    code, _, err = await run_cli("sessions", "export", "--out", str(out), env=env)
    assert code == 1 and "401" in err
    assert_one_error_line(err)
    code, stdout, err = await export(emu, out, "--json")
    assert code == 0 and json.loads(stdout) == {"out": str(out), "rows": 57, "resumed": True}, err
    with out.open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 57  # one header, every row once


def write_unfinished(out: Path, sidecar: str, body: str = '{"id": "vs_1"}\n') -> Path:
    out.write_text(body)
    progress = out.with_name(out.name + ".progress.json")
    progress.write_text(sidecar)
    return progress


@pytest.mark.parametrize(
    ("sidecar", "says"),
    [
        ("{not json", "not valid JSON"),
        ("\xff\xfe garbage", "not valid JSON"),
        ('{"some": "other tool"}', "not a progress file"),
        ("[1, 2, 3]", "not a progress file"),
        (
            '{"kind": "stateset-voice sessions export", "filters": {}, "rows": 1, "bytes": 15}',
            "no checkpoint",
        ),
        (
            '{"kind": "stateset-voice sessions export", "filters": {}, "rows": -1, "bytes": 15,'
            ' "checkpoint": {"offset": 0}}',
            "damaged",
        ),
        (
            '{"kind": "stateset-voice sessions export", "filters": {}, "rows": 1, "bytes": 15,'
            ' "checkpoint": {"offset": "x"}}',
            "damaged",
        ),
    ],
)
async def test_bad_sidecar_refuses(emu: Emulator, tmp_path: Path, sidecar: str, says: str) -> None:
    out = tmp_path / "s.jsonl"
    write_unfinished(out, sidecar)
    code, _, err = await export(emu, out)
    assert code == 2 and says in err and "--force" in err, err
    assert_one_error_line(err)
    assert out.read_text() == '{"id": "vs_1"}\n'  # untouched


async def test_stale_sidecar_never_pads_with_nul(emu: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    write_unfinished(
        out,
        json.dumps(
            {
                "kind": "stateset-voice sessions export",
                "filters": {},
                "rows": 200,
                "bytes": 50_000,
                "checkpoint": {"offset": 200},
            }
        ),
    )
    code, _, err = await export(emu, out)
    assert code == 2 and "shorter" in err and "--force to start over" in err
    assert_one_error_line(err)
    assert b"\0" not in out.read_bytes()
    code, _, err = await export(emu, out, "--force")
    assert code == 0 and b"\0" not in out.read_bytes()
    assert len(out.read_text().splitlines()) == 57


async def test_csv_neutralises_formulas_but_keeps_e164(emu: Emulator, tmp_path: Path) -> None:
    hostile = [
        '=HYPERLINK("http://evil")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
    ]
    async with aiohttp.ClientSession() as http:
        for i, caller in enumerate([*hostile, "+15555550123"]):
            form = {"CallSid": f"CA{i:032d}", "From": caller, "To": "+15555550000"}
            async with http.post(emu.base_url + "/api/v1/incoming-call", data=form) as r:
                assert r.status == 200
    out = tmp_path / "s.csv"
    code, _, err = await export(emu, out, "--direction", "inbound")
    assert code == 0, err
    with out.open(newline="") as f:
        froms = {row["from"] for row in csv.DictReader(f)}
    for value in hostile:
        assert "'" + value in froms
    assert "+15555550123" in froms  # a phone number is not a formula
    e164 = re.compile(r"\+[1-9]\d{1,14}")
    assert not any(
        v.startswith(("=", "+", "-", "@", "\t", "\r"))
        for v in froms - set(filter(e164.fullmatch, froms))
    )


async def test_jsonl_is_strict_json(emu: Emulator, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http:
        form = {"CallSid": "CA" + "9" * 32, "From": "\u2028\x1b[2J\x85", "To": "+15555550000"}
        async with http.post(emu.base_url + "/api/v1/incoming-call", data=form) as r:
            assert r.status == 200
    out = tmp_path / "s.jsonl"
    code, _, err = await export(emu, out)
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.isascii()  # no raw line separator can split a record
    lines = raw.decode().split("\n")[:-1]
    rows = [json.loads(line, parse_constant=pytest.fail) for line in lines]
    assert len(rows) == 58 and any(r["from"] == "\u2028\x1b[2J\x85" for r in rows)


async def test_ctrl_c_says_how_to_resume(emu: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    emu.faults.latency(0.2, route="list_sessions")
    proc = await export_until(emu, out, page_size=5, rows=10)
    code, _, err = await interrupt(proc)
    assert code == 130
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("interrupted;") and "rerun the same command to resume" in err
    emu.faults.clear()
    code, stdout, err = await cli(emu, "sessions", "export", "--out", str(out), "--json")
    assert code == 0 and json.loads(stdout)["resumed"] is True, err
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 57
