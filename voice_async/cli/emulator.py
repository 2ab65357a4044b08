"""``stateset-voice emulator``: run the local emulator in the foreground."""

from __future__ import annotations

import argparse
from typing import Any


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    # Listed for --help only: main() hands "emulator ..." straight to serve().
    groups.add_parser(
        "emulator",
        help="run the local API emulator (see: stateset-voice emulator --help)",
    )


def serve(argv: list[str]) -> int:
    """Run the emulator with its own parser, so its flags are defined once."""
    from ..testing._serve import main

    return main(argv)
