"""Foreground runner behind ``stateset-voice emulator`` and ``python -m voice_async.testing``.

Keys: generated keys are printed in full, because they are throwaway local
test keys and the user needs them to point a client at the emulator. Keys the
user passed in (``--api-key``/``--admin-key``) are shown masked to the last 4
characters, like every other secret.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import TextIO

from ._emulator import Emulator
from ._faults import FaultPlan
from ._state import LIST_SHAPES
from ._util import mask_secret


def build_parser(prog: str = "stateset-voice emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a local StateSet Voice API emulator until Ctrl-C."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default %(default)s)")
    parser.add_argument("--port", type=int, default=8787,
                        help="0 picks a free port (default %(default)s)")
    parser.add_argument("--sessions", type=int, default=0, help="seeded past sessions")
    parser.add_argument("--seed", type=int, default=0, help="seed for all generated data")
    parser.add_argument("--event-interval", type=float, default=0.0,
                        help="seconds between simulated call events")
    parser.add_argument("--tenant-id", default="tn_emulator")
    parser.add_argument("--api-key", default=None, help="tenant key (generated if omitted)")
    parser.add_argument("--admin-key", default=None, help="admin key (generated if omitted)")
    parser.add_argument("--list-shape", choices=LIST_SHAPES, default="envelope")
    parser.add_argument("--fail-rate", type=float, default=0.0,
                        help="fraction of HTTP requests answered with a transient fault")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--rate-limit", type=float, default=None, help="tenant make-call calls/s")
    parser.add_argument("--max-active-calls", type=int, default=None,
                        help="tenant limit of calls queued/ringing/in progress")
    return parser


def _plan(args: argparse.Namespace) -> FaultPlan:
    plan = FaultPlan()
    if args.fail_rate:
        plan.fail_rate(args.fail_rate, seed=args.seed)
    if args.latency:
        plan.latency(args.latency)
    return plan


def _banner(emu: Emulator, args: argparse.Namespace) -> str:
    api_key = mask_secret(emu.api_key) if args.api_key else emu.api_key
    admin_key = mask_secret(emu.admin_key) if args.admin_key else emu.admin_key
    return "\n".join([
        f"StateSet Voice emulator running at {emu.base_url}",
        f"  export STATESET_VOICE_BASE_URL={emu.base_url}",
        f"  export STATESET_VOICE_API_KEY={api_key}",
        f"  export STATESET_ADMIN_API_KEY={admin_key}",
        f"  tenant {emu.tenant_id}, {args.sessions} seeded sessions, seed {args.seed}",
        "Press Ctrl-C to stop.",
    ])


def _install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler: Ctrl-C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


async def serve(args: argparse.Namespace, out: TextIO) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly."""
    emu = Emulator(
        sessions=args.sessions, seed=args.seed, api_key=args.api_key, admin_key=args.admin_key,
        tenant_id=args.tenant_id, event_interval=args.event_interval, host=args.host,
        port=args.port, list_shape=args.list_shape, faults=_plan(args),
        rate_limit=args.rate_limit, max_active_calls=args.max_active_calls,
    )
    stop = asyncio.Event()
    async with emu:
        _install_stop_signals(stop)
        print(_banner(emu, args), file=out, flush=True)
        await stop.wait()
    print("emulator stopped", file=out, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(serve(args, sys.stdout))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
