"""``stateset-voice sessions watch``: print a session's live events as they come."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ._common import make_client, print_json, to_json
from ._output import clean

if TYPE_CHECKING:
    from .._models import SessionEvent


def register(actions: Any, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "watch",
        parents=[common],
        help="print a session's live events until it ends",
        description=(
            "Print a session's live events until the call ends. Ctrl-C prints the "
            "--after-seq to resume from."
        ),
    )
    parser.add_argument("session_id")
    parser.add_argument(
        "--after-seq",
        metavar="SEQ",
        type=int,
        default=0,
        help="resume after this event seq (default: replay from the start)",
    )
    parser.set_defaults(handler=watch)


def describe(event: SessionEvent) -> str:
    """What a person wants to read: who said what, and what changed."""
    from .._models import (
        AgentResponseData,
        ErrorData,
        SessionEndedData,
        SessionStartedData,
        SessionStatusData,
        ToolCallData,
        ToolResultData,
        TranscriptData,
    )

    data = event.data
    if isinstance(data, TranscriptData):
        partial = " ..." if event.type == "transcript.partial" else ""
        return f"{data.role}: {data.text}{partial}"
    if isinstance(data, AgentResponseData):
        return f"agent: {data.text}"
    if isinstance(data, SessionStatusData):
        return f"status -> {data.status}"
    if isinstance(data, SessionStartedData):
        return f"call started {data.from_} -> {data.to} ({data.direction}, agent {data.agent_key})"
    if isinstance(data, ToolCallData):
        return f"tool call {data.name}({json.dumps(dict(data.arguments), default=str)})"
    if isinstance(data, ToolResultData):
        return f"tool result {data.name}: {json.dumps(dict(data.result), default=str)}"
    if isinstance(data, SessionEndedData):
        return f"call ended: {data.status} after {data.duration_seconds}s"
    if isinstance(data, ErrorData):
        return f"error: {data.message}"
    return f"{event.type}: {json.dumps(dict(data), default=str)}"


class Transcript:
    """Turns events into terminal lines, each utterance once.

    A server announces what the agent says twice: ``agent.response`` (the
    reply) and then the agent's ``transcript.final`` (the same words, as
    spoken).  The spoken line that repeats the reply just printed is dropped;
    one that differs (or comes without a reply) is shown.
    """

    def __init__(self) -> None:
        self._reply: str | None = None

    def line(self, event: SessionEvent) -> str | None:
        from .._models import AgentResponseData, TranscriptData

        data = event.data
        if isinstance(data, AgentResponseData):
            self._reply = data.text
        elif isinstance(data, TranscriptData) and event.type == "transcript.final":
            reply, self._reply = self._reply, None
            if data.role == "agent" and data.text == reply:
                return None
        return format_event(event)


def format_event(event: SessionEvent) -> str:
    return clean(f"#{event.seq:<4} {event.ts:%H:%M:%S}  {describe(event)}")


def resume_hint(session_id: str, seq: int) -> str:
    return f"resume with: stateset-voice sessions watch {clean(session_id)} --after-seq {seq}"


async def watch(args: argparse.Namespace) -> int:
    args.interrupt_hint = resume_hint(args.session_id, args.after_seq)
    transcript = Transcript()
    async with make_client(args) as client:
        async for event in client.sessions.events(args.session_id, after_seq=args.after_seq):
            if args.json:
                print_json(to_json(event))
            elif (line := transcript.line(event)) is not None:
                print(line, flush=True)
            args.interrupt_hint = resume_hint(args.session_id, event.seq)
    return 0
