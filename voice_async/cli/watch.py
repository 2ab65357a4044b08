"""``stateset-voice sessions watch``: print a session's live events as they come."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._models import (
    AgentResponseData,
    ErrorData,
    SessionEndedData,
    SessionEvent,
    SessionStartedData,
    SessionStatusData,
    ToolCallData,
    ToolResultData,
    TranscriptData,
)
from ._common import make_client, print_json, to_json


def register(actions: Any, common: argparse.ArgumentParser) -> None:
    parser = actions.add_parser(
        "watch",
        parents=[common],
        help="print a session's live events until it ends",
    )
    parser.add_argument("session_id")
    parser.add_argument(
        "--after-seq",
        type=int,
        default=0,
        help="resume after this event seq (default: replay from the start)",
    )
    parser.set_defaults(handler=watch)


def describe(event: SessionEvent) -> str:
    """What a person wants to read: who said what, and what changed."""
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
        return f"tool call {data.name}({json.dumps(dict(data.arguments))})"
    if isinstance(data, ToolResultData):
        return f"tool result {data.name}: {json.dumps(dict(data.result))}"
    if isinstance(data, SessionEndedData):
        return f"call ended: {data.status} after {data.duration_seconds}s"
    if isinstance(data, ErrorData):
        return f"error: {data.message}"
    return f"{event.type}: {json.dumps(dict(data), default=str)}"


def format_event(event: SessionEvent) -> str:
    return f"#{event.seq:<4} {event.ts:%H:%M:%S}  {describe(event)}"


async def watch(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        async for event in client.sessions.events(args.session_id, after_seq=args.after_seq):
            if args.json:
                print_json(to_json(event))
            else:
                print(format_event(event), flush=True)
    return 0
