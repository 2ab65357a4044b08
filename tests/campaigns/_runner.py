"""A campaign in a child process, for the kill -9 test.

``python _runner.py BASE_URL JOURNAL ROWS`` (the API key comes from
``STATESET_VOICE_API_KEY``) dials rows ``row-0`` .. ``row-<ROWS-1>`` of
campaign ``kill`` with that journal, then exits 0.
"""

from __future__ import annotations

import asyncio
import sys

from voice_async import AsyncVoiceClient, CallRow


async def main(base_url: str, journal: str, n: int) -> None:
    rows = (
        CallRow(f"+1555{i:07d}", "+15555550100", "support_primary", key=f"row-{i}")
        for i in range(n)
    )
    async with (
        AsyncVoiceClient(base_url=base_url) as client,
        client.campaigns.run(rows, campaign_id="kill", journal=journal, concurrency=8) as run,
    ):
        async for _ in run:
            pass


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
