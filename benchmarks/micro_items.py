"""Instructions per session (``sessions.iter``) and per event (``decode_event``), no network.

    .venv/bin/python -m benchmarks.micro_items [--number 20000] [--cases sessions,events]

What the SDK does per item on top of ``json.loads``, counted by callgrind
(two runs of N and N/5 items, the difference divided by 4N/5, so start-up
cancels out; instruction counts do not depend on the machine's load):

* **sessions**: ``async for`` over a ``SessionIterator`` (``concurrency=8``,
  pages of 100) whose fetch answers at once with ``json.loads`` of the lean
  server's page body: the iterator's planning, the typed ``VoiceSession``
  decode, the de-duplication, one step of ``async for`` per session.
  **raw**: ``json.loads`` of the same pages and a loop over their items.
* **events**: ``decode_event`` (``json.loads`` and the typed ``SessionEvent``)
  and ``SeqTracker.accept`` per frame of the lean server's stream.  **raw**:
  ``json.loads`` per frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
from typing import Any

from benchmarks._lean_server import event_frames, session_items

PAGE = 100


def _pages(number: int) -> list[bytes]:
    items = session_items(number)
    pages = []
    for offset in range(0, number, PAGE):
        chunk = items[offset : offset + PAGE]
        more = "true" if offset + PAGE < number else "false"
        meta = f'],"limit":{PAGE},"offset":{offset},"total":{number},"has_more":{more}}}'
        pages.append(b'{"data":[' + b",".join(chunk) + meta.encode())
    end = f'{{"data":[],"limit":{PAGE},"offset":{number},"total":{number},"has_more":false}}'
    pages.append(end.encode())
    return pages


async def sessions_sdk(number: int) -> int:
    from voice_async._pagination import SessionIterator
    from voice_async._paths import SessionFilters

    pages = _pages(number)

    async def fetch(filters: SessionFilters, *, limit: int, offset: int) -> Any:
        return json.loads(pages[min(offset // PAGE, len(pages) - 1)])

    seen = 0
    async for _ in SessionIterator(fetch, SessionFilters(), limit=PAGE, concurrency=8):
        seen += 1
    return seen


async def sessions_raw(number: int) -> int:
    seen = 0
    for body in _pages(number):
        for _ in json.loads(body)["data"]:
            seen += 1
        await asyncio.sleep(0)
    return seen


def events_sdk(number: int) -> int:
    from voice_async._events_core import SeqTracker, decode_event

    tracker = SeqTracker()
    for frame in event_frames(number):
        tracker.accept(decode_event(frame).seq)
    return tracker.last_seq


def events_raw(number: int) -> int:
    last = 0
    for frame in event_frames(number):
        last = json.loads(frame)["seq"]
    return last


def run_only(name: str, number: int) -> int:
    if name == "sessions-sdk":
        return asyncio.run(sessions_sdk(number))
    if name == "sessions-raw":
        return asyncio.run(sessions_raw(number))
    return events_sdk(number) if name == "events-sdk" else events_raw(number)


def instructions(name: str, number: int) -> int:
    """Instructions callgrind counts for a whole process handling ``number`` items."""
    out = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, "-m", "benchmarks.micro_items", "--only", name,
            "--number", str(number),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"no callgrind summary in: {out.stderr[-500:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--cases", default="sessions,events", help="sessions, events or both")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:
        assert run_only(args.only, args.number) == args.number
        return 0
    print(f"callgrind, instructions per item ({args.number} - {args.number // 5} items):")
    for name in [f"{case}-{who}" for case in args.cases.split(",") for who in ("sdk", "raw")]:
        many = instructions(name, args.number)
        few = instructions(name, args.number // 5)
        print(f"  {name:<13} {(many - few) / (args.number - args.number // 5):10,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
