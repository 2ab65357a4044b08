"""What every example shares: its flags, how it gets a client, what it may dial.

Examples read the same environment variables as the SDK
(``STATESET_VOICE_API_KEY``, ``STATESET_ADMIN_API_KEY``,
``STATESET_VOICE_BASE_URL``).  With ``--emulator`` they start the embedded
emulator instead, so they run anywhere with no credentials.

The sample numbers below are made up: an example dials them only on an
emulator (embedded, or one on this machine started with ``stateset-voice
emulator``), never through a remote service unless ``--to``/``--from`` say so.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

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


def add_call_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", metavar="NUMBER", help="number to call (sample number on an emulator)")
    p.add_argument("--from", dest="from_", metavar="NUMBER", help="caller id (likewise)")
    p.add_argument("--agent-key", metavar="KEY", default=SAMPLE_CALL["agent_key"])


def is_local(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def call_fields(args: argparse.Namespace, client: AsyncVoiceClient) -> dict[str, str]:
    """``to``/``from_``/``agent_key`` for make_call: the user's, or the samples on an emulator."""
    if args.to and args.from_:
        return {"to": args.to, "from_": args.from_, "agent_key": args.agent_key}
    if not is_local(client.base_url):
        print(
            f"error: refusing to dial made-up sample numbers through {client.base_url}: "
            "pass real numbers with --to NUMBER --from NUMBER, or use --emulator",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return {**SAMPLE_CALL, "agent_key": args.agent_key}


def idempotency_key(order_id: str, fields: dict[str, Any]) -> str:
    """Same order *and* same call -> same key: a rerun never dials twice, and
    rerunning with another ``--to`` is a new call, not a 409 idempotency_conflict."""
    digest = hashlib.sha256(json.dumps([order_id, fields], sort_keys=True).encode()).hexdigest()
    return f"order-{order_id}-{digest[:16]}"


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
