"""``stateset-voice``: the everyday jobs from a shell.

One module per command group; each registers its sub-parser and an async
function.  The SDK (aiohttp, cattrs) and ``rich`` are imported only inside
the commands, so ``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from .._version import __version__
from . import admin, calls, campaign, demo, emulator, sessions
from ._common import EXIT_USAGE, add_global_options, run
from .export_merge import register as register_export_merge


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one ``error:`` line like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="stateset-voice",
        description=(
            "StateSet Voice from the command line. Keys come from the environment: "
            "STATESET_VOICE_API_KEY (tenant), STATESET_ADMIN_API_KEY (admin). "
            "Start with: stateset-voice demo"
        ),
    )
    parser.add_argument("--version", action="version", version=f"voice-async {__version__}")
    add_global_options(parser)
    common = argparse.ArgumentParser(add_help=False)
    add_global_options(common, on_subcommand=True)
    groups = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (demo, emulator, calls, sessions, admin, campaign):
        module.register(groups, common)
    register_export_merge(groups, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["emulator"]:
        # The emulator owns its flags (one definition of them, in voice_async.testing).
        return emulator.serve(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return run(args.handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
