"""Foreground runner behind ``stateset-voice emulator`` and ``python -m voice_async.testing``.

The banner is a block of shell lines to paste: ``export`` lines for the base
URL and the keys, everything else as ``#`` comments.  Generated keys are
printed in full, because they are throwaway local test keys and the user
needs them to point a client at the emulator.  A key the user passed in
(``--api-key``/``--admin-key``) is never printed, masked or not (a masked key
pasted into ``export`` would be a wrong key): its line says where it came from.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from typing import TextIO

from ._emulator import Emulator
from ._faults import FaultPlan
from ._state import LIST_SHAPES


def build_parser(prog: str = "stateset-voice emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local StateSet Voice API emulator until Ctrl-C.",
    )
    d = " (default: %(default)s)"
    parser.add_argument("--host", default="127.0.0.1", help="interface" + d)
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port" + d)
    parser.add_argument("--sessions", type=int, default=0, help="seeded past sessions" + d)
    parser.add_argument("--seed", type=int, default=0, help="seed for all generated data" + d)
    # 0.4 s: a placed call's events then take a few seconds, like a short call.
    parser.add_argument(
        "--event-interval",
        type=float,
        default=0.4,
        help="seconds between simulated call events" + d,
    )
    parser.add_argument("--tenant-id", default="tn_emulator", help="the tenant of the keys" + d)
    parser.add_argument("--api-key", default=None, help="tenant key (generated if omitted)")
    parser.add_argument("--admin-key", default=None, help="admin key (generated if omitted)")
    parser.add_argument(
        "--list-shape",
        choices=LIST_SHAPES,
        default="envelope",
        help="how list responses are shaped" + d,
    )
    parser.add_argument(
        "--fail-rate",
        type=float,
        default=0.0,
        help="fraction of HTTP requests answered with a transient fault" + d,
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request" + d)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="tenant make-call limit in calls/s (default: none)",
    )
    parser.add_argument(
        "--max-active-calls",
        type=int,
        default=None,
        help="tenant limit of calls queued/ringing/in progress (default: none)",
    )
    return parser


def _plan(args: argparse.Namespace) -> FaultPlan:
    plan = FaultPlan()
    if args.fail_rate:
        plan.fail_rate(args.fail_rate, seed=args.seed)
    if args.latency:
        plan.latency(args.latency)
    return plan


def _key_line(name: str, key: str, passed: str | None, flag: str) -> str:
    if passed:
        return f"# {name}: the key you passed with {flag} (not shown)"
    return f"export {name}={shlex.quote(key)}"


def _banner(emu: Emulator, args: argparse.Namespace) -> str:
    return "\n".join(
        [
            f"# StateSet Voice emulator running at {emu.base_url}",
            f"export STATESET_VOICE_BASE_URL={emu.base_url}",
            _key_line("STATESET_VOICE_API_KEY", emu.api_key, args.api_key, "--api-key"),
            _key_line("STATESET_ADMIN_API_KEY", emu.admin_key, args.admin_key, "--admin-key"),
            f"# tenant {emu.tenant_id}, {args.sessions} seeded sessions, seed {args.seed}",
            "# Press Ctrl-C to stop.",
        ]
    )


def _install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler: Ctrl-C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


async def serve(args: argparse.Namespace, out: TextIO) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly."""
    emu = Emulator(
        sessions=args.sessions,
        seed=args.seed,
        api_key=args.api_key,
        admin_key=args.admin_key,
        tenant_id=args.tenant_id,
        event_interval=args.event_interval,
        host=args.host,
        port=args.port,
        list_shape=args.list_shape,
        faults=_plan(args),
        rate_limit=args.rate_limit,
        max_active_calls=args.max_active_calls,
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
