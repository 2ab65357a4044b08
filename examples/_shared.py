"""What every example shares: its flags and how it gets a client.

Examples read the same environment variables as the SDK
(``STATESET_VOICE_API_KEY``, ``STATESET_ADMIN_API_KEY``,
``STATESET_VOICE_BASE_URL``).  With ``--emulator`` they start the embedded
emulator instead, so they run anywhere with no credentials.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from voice_async import AsyncVoiceClient

SAMPLE_CALL = {"to": "+15555555678", "from_": "+15555551234", "agent_key": "support_primary"}


def parser(description: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--emulator",
        action="store_true",
        help="run against the embedded emulator (no credentials needed)",
    )
    return p


@asynccontextmanager
async def open_client(
    args: argparse.Namespace, **emulator_options: Any
) -> AsyncIterator[AsyncVoiceClient]:
    """A client for the real service (from the environment) or the emulator."""
    if not args.emulator:
        async with AsyncVoiceClient() as client:
            yield client
        return
    from voice_async.testing import Emulator

    async with (
        Emulator(**emulator_options) as emu,
        AsyncVoiceClient(
            api_key=emu.api_key, admin_key=emu.admin_key, base_url=emu.base_url
        ) as client,
    ):
        print(f"(using the embedded emulator at {emu.base_url})")
        yield client
