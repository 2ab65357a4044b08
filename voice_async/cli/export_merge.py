"""``stateset-voice export-merge DIR OUT``: one file from a windowed export's parts.

The parts are written by export-window jobs (``voice_async.contrib.arq``, or
any engine calling ``voice_async.contrib.export_window``); the manifest in DIR
says how many there are and how many sessions each must hold.  OUT is written
atomically and only if every part is present and whole.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ._common import print_json


def register(actions: Any, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "export-merge",
        parents=[common],
        help="merge the part files of a windowed export into one file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", type=Path, help="the export directory (with manifest.json)")
    parser.add_argument("out", type=Path, help="FILE.jsonl or FILE.csv, like the parts")
    parser.set_defaults(handler=export_merge)


async def export_merge(args: argparse.Namespace) -> int:
    # Imported here: voice_async._export_parts itself imports voice_async.cli.
    from .._export_parts import merge_parts

    rows = await asyncio.to_thread(merge_parts, args.directory, args.out)
    if args.json:
        print_json({"out": str(args.out), "rows": rows})
    else:
        print(f"merged {rows} sessions into {args.out}")
    return 0
