"""Helpers for the campaign tests: rows, clients pointed at an emulator, journals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voice_async import AsyncVoiceClient, CallRow
from voice_async.testing import Emulator

FROM = "+15555550100"


def rows(n: int, *, start: int = 0, agent_key: str = "support_primary") -> Iterator[CallRow]:
    """``n`` distinct rows with keys ``row-<i>``, generated lazily."""
    for i in range(start, start + n):
        yield CallRow(to=f"+1555{i:07d}", from_=FROM, agent_key=agent_key, key=f"row-{i}")


def client_for(emu: Emulator, **options: Any) -> AsyncVoiceClient:
    return AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url, **options)


def journal_entries(path: Path) -> list[dict[str, Any]]:
    """Every outcome line of a journal (the header left out)."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["journal"] == "voice_async.campaign"
    return lines[1:]


async def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``condition`` (a file's size, a counter fed by another process)."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 - another process changes it: no event
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)
