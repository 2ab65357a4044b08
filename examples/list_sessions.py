"""List voice sessions: one page with limit/offset, then all of them with the iterator.

python examples/list_sessions.py --emulator
"""

from __future__ import annotations

import asyncio

from _shared import open_client, parser


async def main() -> None:
    p = parser(__doc__)
    p.add_argument("--limit", type=int, default=25)
    p.add_argument("--offset", type=int, default=0)
    args = p.parse_args()
    async with open_client(args, sessions=260, seed=7) as client:
        page = await client.sessions.list(limit=args.limit, offset=args.offset)
        print(f"page: {len(page.data)} sessions at offset {page.offset} of {page.total}")
        for session in page.data[:5]:
            print(f"  {session.id}  {session.status}  {session.from_} -> {session.to}")
        print(f"  next page: offset={page.next_offset}")

        by_status: dict[str, int] = {}
        async with client.sessions.iter(limit=100, concurrency=4) as sessions:
            async for session in sessions:
                by_status[str(session.status)] = by_status.get(str(session.status), 0) + 1
        print(
            f"all {sum(by_status.values())} sessions by status: {dict(sorted(by_status.items()))}"
        )


if __name__ == "__main__":
    asyncio.run(main())
