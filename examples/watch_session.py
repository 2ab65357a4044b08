"""Follow a session's live events until the call ends.

python examples/watch_session.py SESSION_ID
python examples/watch_session.py --emulator     # places a call, then watches it
"""

from __future__ import annotations

import asyncio

from _shared import add_call_options, call_fields, open_client, parser

from voice_async import EventType, TranscriptData


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("session_id", nargs="?", help="default: place a call and watch it")
    add_call_options(p)
    args = p.parse_args()
    async with open_client(args, event_interval=0.05) as client:
        if args.session_id is None:
            args.session_id = (await client.make_call(**call_fields(args, client))).session_id
        print(f"watching {args.session_id}")
        async with client.sessions.events(args.session_id) as stream:
            async for event in stream:
                # The transcript is who said what, each utterance once.  (The
                # agent's words also arrive earlier as agent.response, its
                # decision to say them: printing both would show them twice.)
                if event.type == EventType.TRANSCRIPT_FINAL:
                    assert isinstance(event.data, TranscriptData)
                    print(f"  {event.data.role}: {event.data.text}")
                elif event.type not in (EventType.AGENT_RESPONSE, EventType.TRANSCRIPT_PARTIAL):
                    print(f"  [{event.type}]")
        # Persist stream.last_seq to resume later with events(id, after_seq=...).
        print(f"call ended; last event seq {stream.last_seq}")


if __name__ == "__main__":
    asyncio.run(main())
