"""``stateset-voice admin config get|set``: tenant runtime config (admin key)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ._common import make_client, print_json, to_json
from ._output import clean

if TYPE_CHECKING:
    from .._models import RuntimeConfig

FIELDS = ("model", "voice", "system_prompt_key", "temperature", "max_call_seconds")


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    admin = groups.add_parser("admin", help="admin jobs (needs STATESET_ADMIN_API_KEY)")
    config = admin.add_subparsers(dest="admin_command", metavar="COMMAND").add_parser(
        "config", help="tenant runtime config"
    )
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    get = actions.add_parser("get", parents=[common], help="show a tenant's runtime config")
    get.add_argument("tenant_id")
    get.set_defaults(handler=get_config)
    put = actions.add_parser("set", parents=[common], help="change a tenant's runtime config")
    put.add_argument("tenant_id")
    put.add_argument("--model", metavar="NAME")
    put.add_argument("--voice", metavar="NAME")
    put.add_argument("--system-prompt-key", metavar="KEY")
    put.add_argument("--temperature", metavar="NUMBER", type=float)
    put.add_argument("--max-call-seconds", metavar="SECONDS", type=int)
    put.add_argument(
        "--if-match", metavar="VERSION", type=int, help="only if the stored version is still this"
    )
    put.set_defaults(handler=set_config)


def show(args: argparse.Namespace, config: RuntimeConfig) -> None:
    if args.json:
        print_json(to_json(config))
        return
    print(clean(f"tenant {config.tenant_id}  version {config.version}"))
    for name in FIELDS:
        print(f"  {name:<18} {clean(getattr(config, name))}")


async def get_config(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        show(args, await client.admin.get_runtime_config(args.tenant_id))
    return 0


async def set_config(args: argparse.Namespace) -> int:
    changes = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    async with make_client(args) as client:
        show(
            args,
            await client.admin.update_runtime_config(
                args.tenant_id, if_match=args.if_match, **changes
            ),
        )
    return 0
