"""``stateset-voice call``: place one outbound call."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import make_client, print_json, to_json


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    parser = groups.add_parser(
        "call",
        parents=[common],
        help="place an outbound call",
        description="Place an outbound call (POST /api/v1/make-call).",
    )
    parser.add_argument("--to", required=True, help="E.164 number to call, e.g. +15555555678")
    parser.add_argument("--from", dest="from_", required=True, help="E.164 caller id")
    parser.add_argument("--agent-key", required=True, help="which agent handles the call")
    parser.add_argument("--metadata", type=json.loads, help='JSON object, e.g. \'{"order":"A1"}\'')
    parser.add_argument("--idempotency-key", help="reuse to make a retried command safe")
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
        print(f"placed {placed.session_id} ({placed.status}) {placed.from_} -> {placed.to}")
    return 0
