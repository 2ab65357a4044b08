"""Fixtures: a real Redis server, real arq workers, the emulator as the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

from ._procs import RedisServer, Workers, worker_env


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def arq_redis(redis_server: RedisServer) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(redis_server.url))
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.fixture
async def workers(
    redis_server: RedisServer, emulator: Any, tmp_path: Path
) -> AsyncIterator[Callable[..., Workers]]:
    """``workers(n, **env)`` starts ``n`` arq worker processes against the emulator."""
    pools: list[Workers] = []

    def start(n: int = 1, **env: str) -> Workers:
        pool = Workers(
            worker_env(redis_server.url, emulator.base_url, emulator.api_key, **env),
            tmp_path / f"workers-{len(pools)}",
        )
        pools.append(pool)
        pool.start(n)
        return pool

    try:
        yield start
    finally:
        for pool in pools:
            await pool.stop_all()
