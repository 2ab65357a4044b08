"""``stateset-voice call``: place one outbound call."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import make_client, print_json, to_json
from ._output import clean


def json_object(text: str) -> dict[str, Any]:
    """``--metadata``: a JSON object, or a usage error that says what is wrong."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, e.g. {"order": "A1"}')
    return value


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    parser = groups.add_parser(
        "call",
        parents=[common],
        help="place an outbound call",
        description="Place an outbound call (POST /api/v1/make-call).",
    )
    parser.add_argument(
        "--to", metavar="NUMBER", required=True, help="E.164 number to call, e.g. +15555555678"
    )
    parser.add_argument(
        "--from", dest="from_", metavar="NUMBER", required=True, help="E.164 caller id"
    )
    parser.add_argument("--agent-key", metavar="KEY", required=True, help="which agent answers")
    parser.add_argument(
        "--metadata", metavar="JSON", type=json_object, help='JSON object, e.g. \'{"order":"A1"}\''
    )
    parser.add_argument(
        "--idempotency-key", metavar="KEY", help="reuse it to make a retried command safe"
    )
    parser.set_defaults(handler=call)


async def call(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        placed = await client.make_call(
            to=args.to,
            from_=args.from_,
            agent_key=args.agent_key,
            metadata=args.metadata,
            idempotency_key=args.idempotency_key,
        )
    if args.json:
        print_json(to_json(placed))
    else:
        print(clean(f"placed {placed.session_id} ({placed.status}) {placed.from_} -> {placed.to}"))
    return 0
