"""What every CLI command shares: options, the client, error reporting, exit codes.

Keys come from the environment only (a key typed on the command line ends up
in shell history and ``ps``), and never appear in anything we print.  The SDK
is imported inside the functions that need it, so ``--help`` never loads
aiohttp.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ._output import clean, dumps

if TYPE_CHECKING:
    from .._client import AsyncVoiceClient

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]

#: The SDK's hints name Python arguments; on the command line these are the spellings.
_CLI_SPELLINGS = {
    "pass api_key=... or set": "set",
    "pass admin_key=... or set": "set",
    "pass allow_insecure_http=True": "pass --allow-insecure-http",
    "base_url": "--base-url",
}


_POSITIONALS = frozenset({"session_id", "tenant_id"})


class UsageError(Exception):
    """A problem with how the command was invoked: one line, exit code 2."""


def add_global_options(parser: argparse.ArgumentParser, *, on_subcommand: bool = False) -> None:
    """The options every command takes, before or after the subcommand.

    They are defined on the main parser (with defaults) and again on every
    subcommand with ``SUPPRESS`` defaults, so an option given after the
    subcommand is kept, and its absence there does not reset one given before.
    """
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if on_subcommand else {}
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL (default: $STATESET_VOICE_BASE_URL, else https://voice.stateset.app)",
        **default,
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text", **default)
    parser.add_argument(
        "--debug", action="store_true", help="log requests; show tracebacks", **default
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain http:// base URL that is not loopback (sends the key unencrypted)",
        **default,
    )


def make_client(args: argparse.Namespace, **overrides: Any) -> AsyncVoiceClient:
    from .._client import AsyncVoiceClient

    return AsyncVoiceClient(
        base_url=args.base_url, allow_insecure_http=args.allow_insecure_http, **overrides
    )


def cli_spelling(text: str) -> str:
    for python, cli in _CLI_SPELLINGS.items():
        text = text.replace(python, cli)
    return text


def option_name(field: str) -> str:
    """The command-line spelling of an SDK argument: ``from_`` -> ``--from``."""
    if field in _POSITIONALS:
        return field.upper()
    if not field.isidentifier():
        return field
    return "--" + field.rstrip("_").replace("_", "-")


def describe_error(exc: BaseException) -> str:
    """One readable, terminal-safe line; the request id when there is one."""
    from .._errors import APIStatusError, ConfigurationError, InvalidRequestError, VoiceError

    text = str(exc) or type(exc).__name__
    if isinstance(exc, ConfigurationError):
        text = cli_spelling(text)
    elif isinstance(exc, InvalidRequestError):
        text = option_name(exc.field) + text.removeprefix(exc.field)
    elif isinstance(exc, OSError):
        text = describe_os_error(exc)
    elif not isinstance(exc, (VoiceError, UsageError)):
        text = f"unexpected {type(exc).__name__}: {text} (rerun with --debug for the traceback)"
    if isinstance(exc, APIStatusError) and exc.request_id and exc.request_id not in text:
        text += f" (request_id={exc.request_id})"
    return f"error: {clean(text)}"


def describe_os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    text = f"{exc.strerror or exc}{where}"
    if exc.errno == errno.ENOSPC:
        text += " (free some space, then rerun the same command to resume)"
    return text


def exit_code(exc: BaseException) -> int:
    from .._errors import ConfigurationError, InvalidRequestError

    usage = (UsageError, InvalidRequestError, ConfigurationError)
    return EXIT_USAGE if isinstance(exc, usage) else EXIT_ERROR


def run(command: Command, args: argparse.Namespace) -> int:
    """Run an async command; map every failure to one line on stderr and an exit code."""
    import asyncio  # here, not at the top: --help does not need it

    if args.debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s")
    try:
        return asyncio.run(command(args))
    except KeyboardInterrupt:
        hint = getattr(args, "interrupt_hint", "")
        print(f"interrupted{'; ' + hint if hint else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `stateset-voice sessions list --json | head`: the reader left; not an error.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # the CLI's promise: one line, no traceback (unless --debug)
        if args.debug:
            raise
        print(describe_error(exc), file=sys.stderr)
        return exit_code(exc)


def to_json(model: Any) -> Any:
    from .. import _convert

    return _convert.unstructure(model)


def print_json(value: Any) -> None:
    print(dumps(value), flush=True)


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status", metavar="STATUS", help="queued, ringing, in_progress, completed, ..."
    )
    parser.add_argument("--direction", choices=("inbound", "outbound"))
    parser.add_argument("--agent-key", metavar="KEY")
    parser.add_argument("--created-after", metavar="TIME", help="ISO 8601")
    parser.add_argument("--created-before", metavar="TIME", help="ISO 8601")


def filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "status": args.status,
        "direction": args.direction,
        "agent_key": args.agent_key,
        "created_after": args.created_after,
        "created_before": args.created_before,
    }
