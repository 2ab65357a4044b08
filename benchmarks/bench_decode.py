"""Decode hot path: the generated decoders vs cattrs' generic hooks, per model.

    .venv/bin/python -m benchmarks.bench_decode [--rounds 9] [--number 20000]

No network: each round decodes the same wire payload (a ``Call``, a
``VoiceSession`` of a list page, a live ``transcript.partial`` and
``session.ended`` event, as the lean server sends them) ``--number`` times
with the generated decoder (``_convert.DECODERS``, what the SDK runs) and with
cattrs' generated structure hook (``_convert._STRUCTURE_HOOKS``, the reference
the tests compare them with), interleaved.  For events the reference is the
envelope decoded by hand around cattrs' data hook, which is what 0.1.0 ran.
``json.loads`` of the same payload is shown for scale.  Informational rows:
the ratio is the speed-up (reference time / generated time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from voice_async._convert import _STRUCTURE_HOOKS, DECODERS, EVENT_DATA, parse_datetime
from voice_async._models import Call, EventType, SessionEvent, VoiceSession

from ._common import Row, Sample, interleave, median, timed, versus
from ._lean_server import CALL, event_frames, session_items

CASE = "D1"


def _reference_event(obj: Any) -> SessionEvent:
    """0.1.0's event path: a hand-written envelope around cattrs' data hook."""
    type_ = obj["type"]
    cls = EVENT_DATA.get(type_)
    raw = obj.get("data") or {}
    data = dict(raw) if cls is None else _STRUCTURE_HOOKS[cls](raw, cls)
    kind = EventType(type_) if type_ in EventType._value2member_map_ else type_
    return SessionEvent(kind, obj["session_id"], obj["seq"], parse_datetime(obj["ts"]), data)


def payloads() -> dict[str, tuple[Any, Callable[[Any], Any], Callable[[Any], Any]]]:
    """name -> (payload, generated decoder, reference decoder)."""
    frames = event_frames(2)
    return {
        "Call": (json.loads(CALL), DECODERS[Call], lambda p: _STRUCTURE_HOOKS[Call](p, Call)),
        "VoiceSession": (
            json.loads(session_items(1)[0]),
            DECODERS[VoiceSession],
            lambda p: _STRUCTURE_HOOKS[VoiceSession](p, VoiceSession),
        ),
        "event transcript.partial": (
            json.loads(frames[0]),
            DECODERS[SessionEvent],
            _reference_event,
        ),
        "event session.ended": (json.loads(frames[1]), DECODERS[SessionEvent], _reference_event),
    }


def loop(
    decode: Callable[[Any], Any], payload: Any, number: int
) -> Callable[[], Awaitable[Sample]]:
    """A measurable batch: ``number`` decodes of ``payload``."""

    async def work() -> int:
        for _ in range(number):
            decode(payload)
        return number

    return lambda: timed(work)


async def run_async(rounds: int, number: int) -> list[Row]:
    rows = []
    for name, (payload, fast, reference) in payloads().items():
        assert fast(payload) == reference(payload), name
        text = json.dumps(payload)
        contenders = {
            "generated": loop(fast, payload, number),
            "cattrs": loop(reference, payload, number),
            "json.loads": loop(json.loads, text, number),
        }
        samples = await interleave(contenders, rounds)
        row = versus(CASE, f"decode {name}", samples, "generated", "cattrs", unit="/s")
        loads_us = median([s[1] for s in samples["json.loads"]])
        row["note"] = f"json.loads of it {loads_us:.2f} us"
        rows.append(row)
    return rows


def run(quick: bool = False) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    return asyncio.run(run_async(rounds=2 if quick else 9, number=2_000 if quick else 20_000))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args(argv)
    from .run import print_table

    print_table(asyncio.run(run_async(args.rounds, args.number)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
