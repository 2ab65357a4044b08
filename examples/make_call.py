"""Place an outbound call (POST /api/v1/make-call).

STATESET_VOICE_API_KEY=... python examples/make_call.py --to +1... --from +1...
python examples/make_call.py --emulator
"""

from __future__ import annotations

import asyncio

from _shared import SAMPLE_CALL, open_client, parser

from voice_async import VoiceError


async def main() -> int:
    p = parser(__doc__)
    p.add_argument("--to", default=SAMPLE_CALL["to"])
    p.add_argument("--from", dest="from_", default=SAMPLE_CALL["from_"])
    p.add_argument("--agent-key", default=SAMPLE_CALL["agent_key"])
    p.add_argument("--order-id", default="A-1001", help="kept in the call's metadata")
    args = p.parse_args()
    async with open_client(args) as client:
        try:
            call = await client.make_call(
                to=args.to,
                from_=args.from_,
                agent_key=args.agent_key,
                metadata={"order_id": args.order_id},
                # Same order, same key: rerunning this script never dials twice.
                idempotency_key=f"order-{args.order_id}",
            )
        except VoiceError as exc:
            print(f"could not place the call: {exc}")
            return 1
    print(f"placed call {call.call_sid}: session {call.session_id} is {call.status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
