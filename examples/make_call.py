"""Place an outbound call (POST /api/v1/make-call).

STATESET_VOICE_API_KEY=... python examples/make_call.py --to +1... --from +1...
python examples/make_call.py --emulator
"""

from __future__ import annotations

import asyncio

from _shared import add_call_options, call_fields, idempotency_key, open_client, parser

from voice_async import VoiceError


async def main() -> int:
    p = parser(__doc__)
    add_call_options(p)
    p.add_argument("--order-id", default="A-1001", help="kept in the call's metadata")
    args = p.parse_args()
    async with open_client(args) as client:
        fields = call_fields(args, client)
        try:
            call = await client.make_call(
                **fields,
                metadata={"order_id": args.order_id},
                # Same order and same call, same key: rerunning never dials twice.
                idempotency_key=idempotency_key(args.order_id, fields),
            )
        except VoiceError as exc:
            print(f"could not place the call: {exc}")
            return 1
    print(f"placed call {call.call_sid}: session {call.session_id} is {call.status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
