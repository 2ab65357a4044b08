"""Update a tenant's runtime config (admin key), safely against concurrent admins.

STATESET_ADMIN_API_KEY=... python examples/admin_runtime_config.py tn_123
python examples/admin_runtime_config.py --emulator
"""

from __future__ import annotations

import asyncio

from _shared import open_client, parser

from voice_async import ConflictError


async def main() -> int:
    p = parser(__doc__)
    p.add_argument("tenant_id", nargs="?", default="tn_emulator")
    args = p.parse_args()
    async with open_client(args) as client:
        current = await client.admin.get_runtime_config(args.tenant_id)
        print(f"version {current.version}: model={current.model} voice={current.voice}")
        try:
            updated = await client.admin.update_runtime_config(
                args.tenant_id,
                model="gpt-realtime",
                voice="alloy",
                system_prompt_key="support_default",
                temperature=0.7,
                max_call_seconds=1800,
                if_match=current.version,  # fail instead of overwriting someone else
            )
        except ConflictError:
            print("someone changed the config meanwhile; re-read it and try again")
            return 1
    print(
        f"version {updated.version}: model={updated.model} voice={updated.voice} "
        f"temperature={updated.temperature}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
