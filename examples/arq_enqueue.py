"""Enqueue a sharded campaign and a windowed export for arq workers, and follow them.

    export VOICE_ASYNC_REDIS_URL=redis://localhost:6379/0   # the workers' Redis
    python examples/arq_enqueue.py campaign --campaign-id spring --rows 200 --shards 4 --rate 20
    python examples/arq_enqueue.py status --campaign-id spring
    python examples/arq_enqueue.py export /shared/export --windows 4 --out sessions.jsonl

``--demo`` runs everything on this machine: the embedded emulator as the API,
a throwaway redis-server (Debian: ``apt-get install redis-server``) and two
``examples/arq_worker.py`` processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

from arq.connections import ArqRedis, RedisSettings, create_pool

from voice_async import AsyncVoiceClient, CallRow
from voice_async.contrib import merge_parts
from voice_async.contrib.arq import campaign_status, enqueue_campaign, enqueue_export

WORKER = Path(__file__).with_name("arq_worker.py")


def sample_rows(n: int) -> Iterator[CallRow]:
    """Stand-in for your CSV or CRM query: any (async) iterable of CallRow."""
    for i in range(n):
        yield CallRow(
            to=f"+1555{i:07d}", from_="+15555550100", agent_key="appointments", key=f"patient-{i}"
        )


async def run_campaign(redis: ArqRedis, args: argparse.Namespace) -> None:
    jobs = await enqueue_campaign(
        redis,
        sample_rows(args.rows),
        campaign_id=args.campaign_id,
        shards=args.shards,
        rate=args.rate,
    )
    print(f"enqueued {len(jobs.jobs)} shard jobs for campaign {args.campaign_id!r}")
    await jobs.wait()
    await show_status(redis, args.campaign_id)


async def show_status(redis: ArqRedis, campaign_id: str) -> None:
    status = await campaign_status(redis, campaign_id)
    print(
        f"campaign {campaign_id!r}: {status.rows} rows, {status.placed} placed, "
        f"{status.failed} failed, {status.pending} pending"
    )


async def run_export(
    redis: ArqRedis, args: argparse.Namespace, client: AsyncVoiceClient | None = None
) -> None:
    jobs = await enqueue_export(redis, args.directory, windows=args.windows, client=client)
    print(f"enqueued {len(jobs.jobs)} export windows into {args.directory}")
    rows = await jobs.wait()
    print(f"windows done: {rows}")
    if args.out:
        total = await asyncio.to_thread(merge_parts, args.directory, args.out)
        print(f"merged {total} sessions into {args.out}")


@asynccontextmanager
async def local_redis() -> AsyncIterator[str]:
    """A throwaway redis-server on a free port (append-only file, like production)."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("--demo needs redis-server (Debian/Ubuntu: apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as data:
        proc = await asyncio.create_subprocess_exec(
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            data,
            "--appendonly",
            "yes",
            "--save",
            "",
            stdout=asyncio.subprocess.DEVNULL,
        )
        try:
            for _ in range(200):  # up in a few ms; wait so the first connection succeeds
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.02)
                else:
                    writer.close()
                    await writer.wait_closed()
                    break
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            await proc.wait()


async def demo(args: argparse.Namespace) -> None:
    from voice_async.testing import Emulator

    async with Emulator(sessions=1_000, rate_limit=50) as emu, local_redis() as url:
        env = {
            **os.environ,
            "VOICE_ASYNC_REDIS_URL": url,
            "STATESET_VOICE_API_KEY": emu.api_key,
            "STATESET_VOICE_BASE_URL": emu.base_url,
        }
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(WORKER),
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        redis = await create_pool(RedisSettings.from_dsn(url))
        try:
            with tempfile.TemporaryDirectory() as out:
                args.rows, args.shards, args.rate, args.campaign_id = 120, 4, 40.0, "demo"
                await run_campaign(redis, args)
                args.directory, args.windows = Path(out) / "parts", 4
                args.out = Path(out) / "sessions.jsonl"
                async with AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url) as client:
                    await run_export(redis, args, client)
            print(f"the emulator placed {emu.stats.calls_placed} calls for 120 rows")
            job = await redis.enqueue_job("count_sessions", "appointments")
            assert job is not None
            print(f"your own job on the same workers: {await job.result()} appointments calls")
        finally:
            await redis.aclose()
            for worker in workers:
                worker.terminate()
            for worker in workers:
                await worker.wait()


async def main(args: argparse.Namespace) -> None:
    if args.demo:
        await demo(args)
        return
    url = os.environ.get("VOICE_ASYNC_REDIS_URL", "redis://localhost:6379/0")
    redis = await create_pool(RedisSettings.from_dsn(url))
    try:
        if args.command == "campaign":
            await run_campaign(redis, args)
        elif args.command == "status":
            await show_status(redis, args.campaign_id)
        else:
            await run_export(redis, args)
    finally:
        await redis.aclose()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--demo", action="store_true", help="run everything locally")
    sub = p.add_subparsers(dest="command")
    campaign = sub.add_parser("campaign", help="enqueue a campaign of sample rows")
    campaign.add_argument("--campaign-id", required=True)
    campaign.add_argument("--rows", type=int, default=100)
    campaign.add_argument("--shards", type=int, default=4)
    campaign.add_argument("--rate", type=float, default=None, help="calls/s, all workers")
    status = sub.add_parser("status", help="a campaign's progress")
    status.add_argument("--campaign-id", required=True)
    export = sub.add_parser("export", help="enqueue a windowed export")
    export.add_argument("directory", type=Path, help="a directory every worker can write")
    export.add_argument("--windows", type=int, default=4)
    export.add_argument("--out", type=Path, help="merge the parts into this file")
    return p


if __name__ == "__main__":
    parsed = build_parser().parse_args()
    if not parsed.demo and parsed.command is None:
        build_parser().error("give a command, or --demo")
    asyncio.run(main(parsed))
