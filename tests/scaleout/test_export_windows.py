"""Windowed exports on real arq workers: merged output == one-process export."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis

from voice_async import AsyncVoiceClient
from voice_async.cli import main as cli_main
from voice_async.contrib import (
    ExportSnapshotError,
    export_window,
    merge_parts,
    plan_export,
)
from voice_async.contrib.arq import enqueue_export

from ._procs import Workers


async def single_export(emulator: Any, out: Path, created_before: str, *extra: str) -> bytes:
    """The reference: ``stateset-voice sessions export`` in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATESET_")}
    env.update(STATESET_VOICE_BASE_URL=emulator.base_url, STATESET_VOICE_API_KEY=emulator.api_key)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voice_async",
        "sessions",
        "export",
        "--out",
        str(out),
        "--created-before",
        created_before,
        "--no-progress",
        *extra,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return read(out)


def read(path: Path) -> bytes:
    return path.read_bytes()


def temp_files(directory: Path) -> list[Path]:
    """Part files still being written (or torn by a crash)."""
    return list(directory.glob(".part-*.tmp"))


def pinned(parts: Path) -> str:
    """The snapshot bound the enqueuer chose, from the manifest."""
    return str(json.loads((parts / "manifest.json").read_text())["created_before"])


def jsonl_ids(data: bytes) -> list[str]:
    return [json.loads(line)["id"] for line in data.splitlines()]


@pytest.mark.voice_emulator(sessions=2_500, seed=11)
async def test_three_workers_merge_to_the_single_process_export(
    emulator: Any, arq_redis: ArqRedis, workers: Callable[..., Workers], tmp_path: Path
) -> None:
    workers(3)
    # New calls keep arriving at the head while the export runs: the pinned
    # snapshot must keep them out of every window.
    emulator.faults.head_insert_on_page(2)
    client = AsyncVoiceClient(api_key=emulator.api_key, base_url=emulator.base_url)
    async with client:
        jobs = await enqueue_export(
            arq_redis, tmp_path / "parts", windows=6, client=client, concurrency=4
        )
    rows = await jobs.wait(timeout=120)
    assert len(rows) == 6 and sum(rows) == 2_500
    merged = tmp_path / "merged.jsonl"
    assert merge_parts(tmp_path / "parts", merged) == 2_500
    created_before = pinned(tmp_path / "parts")
    reference = await single_export(emulator, tmp_path / "single.jsonl", created_before)
    assert merged.read_bytes() == reference
    ids = jsonl_ids(reference)
    assert len(ids) == len(set(ids)) == 2_500
    assert emulator.total_sessions > 2_500  # the head inserts really happened


@pytest.mark.voice_emulator(sessions=777, seed=5)
async def test_csv_parts_merge_to_the_single_process_export(
    emulator: Any, client: AsyncVoiceClient, tmp_path: Path
) -> None:
    parts = tmp_path / "parts"
    plan = await plan_export(
        client, parts, windows=4, fmt="csv", page_size=50, direction="outbound"
    )
    assert len(plan.windows) == 4 and all(w.offset % 50 == 0 for w in plan.windows)
    assert sum(w.limit for w in plan.windows) == plan.total
    for window in reversed(plan.windows):  # any order
        assert await export_window(client, parts, window.index) == window.limit
    out = tmp_path / "merged.csv"
    merge_parts(parts, out)
    reference = await single_export(
        emulator,
        tmp_path / "single.csv",
        plan.created_before,
        "--direction",
        "outbound",
        "--page-size",
        "50",
    )
    assert out.read_bytes() == reference
    assert reference.count(b"\n") == plan.total + 1 and plan.total < 777


@pytest.mark.voice_emulator(sessions=3_000, seed=2)
async def test_worker_killed_mid_window_the_rerun_rewrites_the_part_whole(
    emulator: Any, arq_redis: ArqRedis, workers: Callable[..., Workers], tmp_path: Path
) -> None:
    emulator.faults.latency(0.1, route="list_sessions")  # 15 pages per window: ~1.5 s
    first = workers(1)
    parts = tmp_path / "parts"
    async with AsyncVoiceClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        jobs = await enqueue_export(arq_redis, parts, windows=2, client=client, concurrency=1)
    for _ in range(600):  # both windows are being written
        if len(temp_files(parts)) == 2:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    first.kill(first.procs[0])
    torn = temp_files(parts)
    assert len(torn) == 2 and not list(parts.glob("part-*"))  # half-written, not published
    emulator.faults.latency(0, route="list_sessions")
    second = workers(1)  # arq hands it the jobs once the dead worker's lock expires
    assert await jobs.wait(timeout=90) == [1_500, 1_500], second.logs()
    tries = [(await job.result_info()) for job in jobs.jobs]
    assert all(info is not None and info.job_try == 2 for info in tries)
    merged = tmp_path / "merged.jsonl"
    merge_parts(parts, merged)
    assert not temp_files(parts)  # the torn leftovers are gone once the parts are whole
    created_before = pinned(parts)
    reference = await single_export(emulator, tmp_path / "single.jsonl", created_before)
    assert merged.read_bytes() == reference
    assert len(set(jsonl_ids(reference))) == 3_000


@pytest.mark.voice_emulator(sessions=300, seed=1)
async def test_merge_refuses_missing_or_short_parts(
    client: AsyncVoiceClient, tmp_path: Path
) -> None:
    plan = await plan_export(client, tmp_path, windows=3)
    await export_window(client, tmp_path, 0)
    await export_window(client, tmp_path, 2)
    with pytest.raises(ExportSnapshotError, match=r"part-00001\.jsonl is missing"):
        merge_parts(tmp_path, tmp_path / "out.jsonl")
    await export_window(client, tmp_path, 1)
    part = tmp_path / plan.part_name(2)
    part.write_bytes(b"".join(part.read_bytes().splitlines(keepends=True)[:-1]))
    short = r"part-00002\.jsonl holds 99 records, expected 100"
    with pytest.raises(ExportSnapshotError, match=short):
        merge_parts(tmp_path, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.voice_emulator(sessions=300, seed=1)
async def test_a_snapshot_that_moves_fails_the_window_loudly(
    emulator: Any, client: AsyncVoiceClient, tmp_path: Path
) -> None:
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    plan = await plan_export(client, tmp_path, windows=2, created_before=future)
    emulator.insert_sessions(5)  # created "now": inside a bound that lies in the future
    with pytest.raises(ExportSnapshotError, match="now holds 305 sessions, not the planned 300"):
        await export_window(client, tmp_path, 1)
    assert not (tmp_path / plan.part_name(1)).exists()
    assert not temp_files(tmp_path)


@pytest.mark.voice_emulator(sessions=250, seed=4)
async def test_merge_cli(emulator: Any, client: AsyncVoiceClient, tmp_path: Path) -> None:
    plan = await plan_export(client, tmp_path / "p", windows=2)
    for window in plan.windows:
        await export_window(client, tmp_path / "p", window.index)
    code = await asyncio.to_thread(
        cli_main, ["export-merge", str(tmp_path / "p"), str(tmp_path / "all.jsonl")]
    )
    assert code == 0
    assert (tmp_path / "all.jsonl").read_bytes() == b"".join(
        (tmp_path / "p" / plan.part_name(w.index)).read_bytes() for w in plan.windows
    )
