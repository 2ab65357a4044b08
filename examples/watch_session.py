"""Follow a session's live events until the call ends.

python examples/watch_session.py SESSION_ID
python examples/watch_session.py --emulator     # places a call, then watches it
"""

from __future__ import annotations

import asyncio

from _shared import SAMPLE_CALL, open_client, parser

from voice_async import AgentResponseData, EventType, TranscriptData


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("session_id", nargs="?")
    args = p.parse_args()
    async with open_client(args, event_interval=0.05) as client:
        session_id = args.session_id or (await client.make_call(**SAMPLE_CALL)).session_id
        print(f"watching {session_id}")
        async with client.sessions.events(session_id) as stream:
            async for event in stream:
                if (
                    isinstance(event.data, TranscriptData)
                    and event.type == EventType.TRANSCRIPT_FINAL
                ):
                    print(f"  {event.data.role}: {event.data.text}")
                elif isinstance(event.data, AgentResponseData):
                    print(f"  (agent responds) {event.data.text}")
                else:
                    print(f"  [{event.type}]")
        # Persist stream.last_seq to resume later with events(id, after_seq=...).
        print(f"call ended; last event seq {stream.last_seq}")


if __name__ == "__main__":
    asyncio.run(main())
