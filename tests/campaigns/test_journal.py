"""Journal and resume: skip what is done, send what is not, repair a torn tail."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from voice_async import CallRow, InvalidRequestError
from voice_async._journal import repair_tail
from voice_async.testing import Emulator, FaultKind

from .conftest import FROM, client_for, journal_entries, rows


def test_repair_tail_drops_only_a_torn_last_line() -> None:
    handle = io.BytesIO(b'{"a":1}\n{"b":2}\n{"c":')
    assert repair_tail(handle) == 5
    assert handle.getvalue() == b'{"a":1}\n{"b":2}\n'
    assert repair_tail(handle) == 0
    whole = io.BytesIO(b"x" * 200_000)  # no newline at all: nothing is whole
    assert repair_tail(whole) == 200_000 and whole.getvalue() == b""


async def test_rerun_skips_placed_rows_and_sends_the_rest(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    async with Emulator() as emu, client_for(emu) as client:
        first = [r async for r in client.campaigns.run(rows(10), campaign_id="c", journal=journal)]
        run = client.campaigns.run(rows(15), campaign_id="c", journal=journal)
        second = {r.key: r async for r in run}
    assert emu.stats.calls_placed == 15 and emu.stats.idempotent_replays == 0
    before = {r.key: r.session_id for r in first}
    assert all(second[k].outcome == "skipped_done" for k in before)
    assert {k: second[k].session_id for k in before} == before
    assert [second[f"row-{i}"].outcome for i in range(10, 15)] == ["placed"] * 5
    assert run.summary.skipped_done == 10 and run.summary.placed == 5
    entries = journal_entries(journal)
    assert sorted(e["key"] for e in entries) == sorted(f"row-{i}" for i in range(15))


async def test_failed_rows_are_left_alone_unless_retry_failed(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    flaky = [CallRow("+15555550111", FROM, "unknown_agent", key="k1"), *rows(2)]
    async with Emulator() as emu, client_for(emu) as client:
        first = [r async for r in client.campaigns.run(flaky, campaign_id="c", journal=journal)]
        assert sorted(r.outcome for r in first) == ["failed", "placed", "placed"]
        fixed = [CallRow("+15555550111", FROM, "support_primary", key="k1"), *rows(2)]
        again = {
            r.key: r.outcome
            async for r in client.campaigns.run(fixed, campaign_id="c", journal=journal)
        }
        assert again == {"k1": "skipped_done", "row-0": "skipped_done", "row-1": "skipped_done"}
        retried = {
            r.key: r.outcome
            async for r in client.campaigns.run(
                fixed, campaign_id="c", journal=journal, retry_failed=True
            )
        }
    assert retried == {"k1": "placed", "row-0": "skipped_done", "row-1": "skipped_done"}
    assert emu.stats.calls_placed == 3
    outcomes = [(e["key"], e["outcome"]) for e in journal_entries(journal)]
    assert outcomes.count(("k1", "failed")) == 1 and outcomes.count(("k1", "placed")) == 1


async def test_a_torn_last_line_is_repaired_and_that_row_resent(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    async with Emulator() as emu, client_for(emu) as client:
        [r async for r in client.campaigns.run(rows(5), campaign_id="c", journal=journal)]
        text = journal.read_text()
        last = text.splitlines()[-1]
        journal.write_text(text[: -len(last) // 2 - 1])  # a crash inside the last write
        results = {
            r.key: r async for r in client.campaigns.run(rows(5), campaign_id="c", journal=journal)
        }
    torn_key = json.loads(last)["key"]
    assert results[torn_key].outcome == "placed"  # resent: no outcome was recorded
    assert results[torn_key].session_id == json.loads(last)["session_id"]  # the same call
    assert emu.stats.calls_placed == 5 and emu.stats.idempotent_replays == 1
    keys = [e["key"] for e in journal_entries(journal)]
    assert sorted(keys) == sorted(f"row-{i}" for i in range(5))


async def test_a_journal_belongs_to_one_campaign(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    async with Emulator() as emu, client_for(emu) as client:
        [r async for r in client.campaigns.run(rows(1), campaign_id="a", journal=journal)]
        with pytest.raises(InvalidRequestError, match="belongs to campaign 'a'"):
            [r async for r in client.campaigns.run(rows(1), campaign_id="b", journal=journal)]
        (tmp_path / "other.jsonl").write_text('{"key": "x"}\n')
        with pytest.raises(InvalidRequestError, match="not a campaign journal"):
            [
                r
                async for r in client.campaigns.run(
                    rows(1), campaign_id="a", journal=tmp_path / "other.jsonl"
                )
            ]
        journal.write_text(journal.read_text() + "garbage\n{}\n")
        with pytest.raises(InvalidRequestError, match="line"):
            [r async for r in client.campaigns.run(rows(1), campaign_id="a", journal=journal)]


async def test_one_run_per_journal_at_a_time(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    async with (
        Emulator() as emu,
        client_for(emu) as client,
        client.campaigns.run(rows(3), campaign_id="c", journal=journal) as first,
    ):
        await first.__anext__()
        with pytest.raises(InvalidRequestError, match="in use"):
            [r async for r in client.campaigns.run(rows(3), campaign_id="c", journal=journal)]


async def test_exactly_once_under_30_percent_faults(tmp_path: Path) -> None:
    """5xx, HTML 502s, resets and timeouts after the call was placed: each row once."""
    journal = tmp_path / "run.jsonl"
    kinds = [
        FaultKind.SERVER_ERROR,
        FaultKind.UNAVAILABLE,
        FaultKind.BAD_GATEWAY_HTML,
        FaultKind.RESET,
        FaultKind.HANG,
    ]
    async with Emulator() as emu, client_for(emu, max_retries=12, timeout=0.5) as client:
        emu.faults.hang_seconds = 2.0
        emu.faults.fail_rate(0.3, kinds, route="make_call", seed=5, when="after")
        run = client.campaigns.run(rows(150), campaign_id="c", journal=journal, concurrency=16)
        results = [r async for r in run]
    assert emu.stats.faults_injected["hang"] > 0 and emu.stats.faults_injected["reset"] > 0
    assert sum(emu.stats.faults_injected.values()) >= 30
    assert {r.outcome for r in results} == {"placed"}
    assert emu.stats.calls_placed == 150  # every fault was after placing: retries replayed
    assert len({r.session_id for r in results}) == 150
    assert run.summary.attempts > 150
    entries = journal_entries(journal)
    assert sorted(e["key"] for e in entries) == sorted(f"row-{i}" for i in range(150))


async def test_follow_records_final_status_and_duration(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    follow_rows = [
        *rows(3),
        CallRow(
            "+15555550199", FROM, "support_primary", {"emulator_outcome": "no_answer"}, key="nobody"
        ),
    ]
    async with Emulator(call_duration=(1.0, 1.6)) as emu, client_for(emu) as client:
        run = client.campaigns.run(follow_rows, campaign_id="c", journal=journal, follow=True)
        results = {r.key: r async for r in run}
    assert {k: r.status for k, r in results.items()} == {
        "row-0": "completed",
        "row-1": "completed",
        "row-2": "completed",
        "nobody": "no_answer",
    }
    assert all(results[f"row-{i}"].duration_seconds for i in range(3))
    assert run.summary.completed == 3 and (run.summary.average_duration or 0) > 0
    entries = {e["key"]: e for e in journal_entries(journal)}
    assert entries["row-0"]["status"] == "completed"
    assert entries["row-0"]["duration_seconds"] == results["row-0"].duration_seconds
