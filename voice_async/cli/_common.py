"""What every CLI command shares: the client, error reporting, exit codes, output.

Keys come from the environment only (a key typed on the command line ends up
in shell history and ``ps``), and never appear in anything we print.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from .. import _convert
from .._client import AsyncVoiceClient
from .._errors import APIStatusError, InvalidRequestError, VoiceError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url", help="API base URL (default: $STATESET_VOICE_BASE_URL or the service)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--debug", action="store_true", help="log requests; show tracebacks")


def make_client(args: argparse.Namespace, **overrides: Any) -> AsyncVoiceClient:
    return AsyncVoiceClient(base_url=getattr(args, "base_url", None), **overrides)


def describe_error(exc: BaseException) -> str:
    """One readable line; the request id when there is one (quote it to support)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, APIStatusError) and exc.request_id and exc.request_id not in text:
        text += f" (request_id={exc.request_id})"
    return f"error: {text}"


def run(command: Command, args: argparse.Namespace) -> int:
    """Run an async command; map failures to one line on stderr and an exit code."""
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s")
    try:
        return asyncio.run(command(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `stateset-voice sessions list --json | head`: the reader left; not an error.
        sys.stderr.close()
        return EXIT_OK
    except InvalidRequestError as exc:
        if args.debug:
            raise
        print(describe_error(exc), file=sys.stderr)
        return EXIT_USAGE
    except VoiceError as exc:
        if args.debug:
            raise
        print(describe_error(exc), file=sys.stderr)
        return EXIT_ERROR


def to_json(model: Any) -> Any:
    return _convert.unstructure(model)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, default=str))


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", help="queued, ringing, in_progress, completed, ...")
    parser.add_argument("--direction", choices=("inbound", "outbound"))
    parser.add_argument("--agent-key")
    parser.add_argument("--created-after", help="ISO 8601")
    parser.add_argument("--created-before", help="ISO 8601")


def filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "status": args.status,
        "direction": args.direction,
        "agent_key": args.agent_key,
        "created_after": args.created_after,
        "created_before": args.created_before,
    }
