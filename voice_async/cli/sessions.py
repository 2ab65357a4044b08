"""``stateset-voice sessions list|get|export|watch``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from . import export, watch
from ._common import add_filters, filters, make_client, print_json, to_json
from ._output import clean, finite

if TYPE_CHECKING:
    from .._models import SessionPage, VoiceSession

COLUMNS = ("id", "status", "direction", "from_", "to", "agent_key", "created_at")


def register(groups: Any, common: argparse.ArgumentParser) -> None:
    sessions = groups.add_parser("sessions", help="list, get, export and watch voice sessions")
    actions = sessions.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)

    list_ = actions.add_parser("list", parents=[common], help="one page of sessions, newest first")
    list_.add_argument(
        "--limit", metavar="N", type=int, default=25, help="page size, 1 to 100 (default 25)"
    )
    list_.add_argument(
        "--offset", metavar="N", type=int, default=0, help="sessions to skip (default 0)"
    )
    add_filters(list_)
    list_.set_defaults(handler=list_sessions)

    get = actions.add_parser("get", parents=[common], help="one session by id")
    get.add_argument("session_id")
    get.set_defaults(handler=get_session)
    export.register(actions, common)
    watch.register(actions, common)


def cell(session: VoiceSession, column: str) -> str:
    value = getattr(session, column)
    return "" if value is None else clean(value)


def print_table(sessions: tuple[VoiceSession, ...], caption: str) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(caption=caption)
    for column in COLUMNS:
        table.add_column(column.rstrip("_"), no_wrap=True)
    for session in sessions:
        # Text(), not str: a "[bold]" in server data is text, never rich markup.
        table.add_row(*(Text(cell(session, c)) for c in COLUMNS))
    # Piped output has no terminal width; don't squeeze ids into ellipses.
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console = Console(soft_wrap=True, width=200)
    console.print(table)


def page_caption(page: SessionPage) -> str:
    end = page.offset + len(page.data)
    total = f" of {page.total}" if page.total is not None else ""
    more = f"; next: --offset {page.next_offset}" if page.next_offset is not None else ""
    return f"sessions {page.offset + 1 if page.data else 0}-{end}{total}{more}"


async def list_sessions(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        page = await client.sessions.list(limit=args.limit, offset=args.offset, **filters(args))
    if args.json:
        print_json(
            {
                "data": [to_json(s) for s in page.data],
                "limit": page.limit,
                "offset": page.offset,
                "total": page.total,
                "has_more": page.has_more,
                "next_offset": page.next_offset,
            }
        )
    else:
        print_table(page.data, page_caption(page))
    return 0


async def get_session(args: argparse.Namespace) -> int:
    async with make_client(args) as client:
        session = await client.sessions.get(args.session_id)
    if args.json:
        print_json(to_json(session))
    else:
        for name, value in finite(to_json(session)).items():
            print(f"{name:<17} {clean(value)}")
    return 0
