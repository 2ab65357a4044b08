"""``stateset-voice demo``: the whole tour in one command.

With no ``STATESET_VOICE_API_KEY`` it starts the embedded emulator and runs
against it, so a newcomer sees every capability work in seconds.  It talks to
the real service only when a key is set *and* real numbers are given: a demo
must never dial made-up numbers on a real account.
"""

from __future__ import annotations

import argparse
import os
from contextlib import AsyncExitStack
from typing import Any

from .._client import AsyncVoiceClient
from .._config import ENV_API_KEY
from .._models import SessionEvent
from ._common import EXIT_USAGE, make_client
from .watch import format_event

DEMO_TO, DEMO_FROM, DEMO_AGENT = "+15555555678", "+15555551234", "support_primary"


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    parser = groups.add_parser(
        "demo",
        parents=[common],
        help="place a call, page sessions, stream live events",
        description=__doc__,
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="use the embedded emulator even if STATESET_VOICE_API_KEY is set",
    )
    parser.add_argument("--to", help="number to call (required against the real service)")
    parser.add_argument(
        "--from", dest="from_", help="caller id (required against the real service)"
    )
    parser.add_argument("--agent-key", default=DEMO_AGENT)
    parser.add_argument(
        "--sessions",
        type=int,
        default=240,
        help="sessions the emulator is seeded with (default 240)",
    )
    parser.set_defaults(handler=demo)


def step(number: int, text: str) -> None:
    print(f"\n[{number}] {text}")


async def open_client(args: argparse.Namespace, stack: AsyncExitStack) -> AsyncVoiceClient | None:
    use_emulator = args.emulator or not os.environ.get(ENV_API_KEY)
    if use_emulator:
        from ..testing import Emulator

        emu = await stack.enter_async_context(Emulator(sessions=args.sessions, event_interval=0.2))
        print(f"Using the embedded emulator at {emu.base_url} (no real calls are placed).")
        client = AsyncVoiceClient(
            api_key=emu.api_key, admin_key=emu.admin_key, base_url=emu.base_url
        )
    else:
        if not (args.to and args.from_):
            print(
                "error: against the real service, pass real numbers: --to +1... --from +1... "
                "(or use --emulator)"
            )
            return None
        client = make_client(args)
        print(f"Using {client.base_url} with the key from ${ENV_API_KEY}.")
    return await stack.enter_async_context(client)


async def demo(args: argparse.Namespace) -> int:
    async with AsyncExitStack() as stack:
        client = await open_client(args, stack)
        if client is None:
            return EXIT_USAGE
        step(1, "Placing an outbound call")
        call = await client.make_call(
            to=args.to or DEMO_TO,
            from_=args.from_ or DEMO_FROM,
            agent_key=args.agent_key,
            metadata={"source": "stateset-voice demo"},
        )
        print(f"    session {call.session_id}  call {call.call_sid}  status {call.status}")
        print(f"    {call.from_} -> {call.to}  agent {call.agent_key}")

        step(2, "Listing the newest sessions (one page)")
        page = await client.sessions.list(limit=5)
        for session in page.data:
            print(
                f"    {session.id}  {session.status!s:<11} {session.direction}  "
                f"{session.created_at:%Y-%m-%d %H:%M:%S}"
            )
        print(f"    ... {page.total if page.total is not None else '?'} sessions in all")

        step(3, "Paging through every session with the async iterator")
        count = 0
        async for _ in client.sessions.iter(limit=100):
            count += 1
        print(f"    iterated {count} sessions, each exactly once")

        step(4, f"Streaming live events of {call.session_id} until the call ends")
        last: SessionEvent | None = None
        async for event in client.sessions.events(call.session_id):
            print(f"    {format_event(event)}")
            last = event
        print(f"    stream ended after {last.seq if last else 0} events")
    print("\nDone. Next: stateset-voice --help, and the examples/ folder.")
    return 0
