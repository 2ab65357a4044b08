"""stateset-voice demo: the whole tour in one command.

With no STATESET_VOICE_API_KEY (or with --emulator) it starts the embedded
emulator and runs against it, so a newcomer sees every capability work in
seconds. With a key it runs against STATESET_VOICE_BASE_URL: an emulator on
this machine (a loopback address, e.g. one started with "stateset-voice
emulator") is used as is; a remote service is dialled only with real numbers
given as --to NUMBER --from NUMBER, never with the demo's sample numbers.
"""

from __future__ import annotations

import argparse
import os
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from ._common import UsageError, make_client
from ._output import clean
from .watch import Transcript

if TYPE_CHECKING:
    from .._client import AsyncVoiceClient

DEMO_TO, DEMO_FROM, DEMO_AGENT = "+15555555678", "+15555551234", "support_primary"


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    parser = groups.add_parser(
        "demo",
        parents=[common],
        help="place a call, page sessions, stream live events",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="use the embedded emulator even if STATESET_VOICE_API_KEY is set",
    )
    parser.add_argument(
        "--to", metavar="NUMBER", help="number to call (required against a remote service)"
    )
    parser.add_argument(
        "--from",
        dest="from_",
        metavar="NUMBER",
        help="caller id (required against a remote service)",
    )
    parser.add_argument("--agent-key", metavar="KEY", default=DEMO_AGENT)
    parser.add_argument(
        "--sessions",
        metavar="N",
        type=int,
        default=240,
        help="sessions the embedded emulator is seeded with (default 240)",
    )
    parser.set_defaults(handler=demo)


def step(number: int, text: str) -> None:
    print(f"\n[{number}] {text}")


def is_local(base_url: str) -> bool:
    from yarl import URL

    from .._config import is_loopback

    return is_loopback(URL(base_url).host or "")


async def open_client(args: argparse.Namespace, stack: AsyncExitStack) -> AsyncVoiceClient:
    from .._client import AsyncVoiceClient
    from .._config import ENV_API_KEY

    if args.emulator or not os.environ.get(ENV_API_KEY):
        from ..testing import Emulator

        emu = await stack.enter_async_context(Emulator(sessions=args.sessions, event_interval=0.2))
        print(f"Using the embedded emulator at {emu.base_url} (no real calls are placed).")
        client = AsyncVoiceClient(
            api_key=emu.api_key, admin_key=emu.admin_key, base_url=emu.base_url
        )
    else:
        client = make_client(args)
        if not (args.to and args.from_) and not is_local(client.base_url):
            raise UsageError(
                f"refusing to dial the demo's sample numbers through {client.base_url}: "
                "pass real numbers with --to NUMBER --from NUMBER, "
                "or use the embedded emulator with --emulator"
            )
        print(f"Using {client.base_url} with the key from ${ENV_API_KEY}.")
    return await stack.enter_async_context(client)


async def demo(args: argparse.Namespace) -> int:
    if args.json:
        raise UsageError(
            "demo is a guided tour for people and has no JSON output; "
            "use e.g. 'stateset-voice call --json' or 'stateset-voice sessions list --json'"
        )
    async with AsyncExitStack() as stack:
        client = await open_client(args, stack)
        step(1, "Placing an outbound call")
        call = await client.make_call(
            to=args.to or DEMO_TO,
            from_=args.from_ or DEMO_FROM,
            agent_key=args.agent_key,
            metadata={"source": "stateset-voice demo"},
        )
        print(clean(f"    session {call.session_id}  call {call.call_sid}  status {call.status}"))
        print(clean(f"    {call.from_} -> {call.to}  agent {call.agent_key}"))

        step(2, "Listing the newest sessions (one page of limit=5)")
        page = await client.sessions.list(limit=5)
        for session in page.data:
            print(
                clean(
                    f"    {session.id}  {session.status!s:<11} {session.direction}  "
                    f"{session.created_at:%Y-%m-%d %H:%M:%S}"
                )
            )
        print(f"    ... {page.total if page.total is not None else '?'} sessions in all")

        step(3, "Paging through every session with the async iterator")
        count = 0
        async for _ in client.sessions.iter(page_size=100):
            count += 1
        print(f"    iterated {count} sessions, each exactly once")

        step(4, f"Streaming live events of {clean(call.session_id)} until the call ends")
        last = 0
        transcript = Transcript()
        async for event in client.sessions.events(call.session_id):
            if (line := transcript.line(event)) is not None:
                print(f"    {line}", flush=True)
            last = event.seq
        print(f"    stream ended after {last} events")
    print("\nDone. Next: stateset-voice --help, and the examples/ folder.")
    return 0
