"""GET /api/v1/voice-sessions (paging, filters, shapes) and GET .../{id}; seeding."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from voice_async.testing import Emulator
from voice_async.testing._util import parse_iso

from .emu_helpers import ISO_SECONDS, SESSION_ID, auth, place_call, request

STATUSES = {"completed", "failed", "canceled", "no_answer", "busy"}


async def list_sessions(http: aiohttp.ClientSession, emu: Emulator, **params: Any) -> Any:
    reply = await request(
        http,
        "GET",
        f"{emu.base_url}/api/v1/voice-sessions",
        params={k: str(v) for k, v in params.items()},
        headers=auth(emu),
    )
    assert reply.status == 200, reply.text
    return reply.json()


async def all_sessions(http: aiohttp.ClientSession, emu: Emulator, **params: Any) -> list[Any]:
    found: list[Any] = []
    while True:
        page = await list_sessions(http, emu, limit=100, offset=len(found), **params)
        found.extend(page["data"])
        if not page["has_more"]:
            return found


def order_key(session: dict[str, Any]) -> tuple[str, str]:
    return session["created_at"], session["id"]


async def test_default_page(emu: Emulator, http: aiohttp.ClientSession) -> None:
    page = await list_sessions(http, emu)
    assert set(page) == {"data", "limit", "offset", "total", "has_more"}
    assert (page["limit"], page["offset"], page["total"], page["has_more"]) == (25, 0, 60, True)
    assert len(page["data"]) == 25


async def test_pages_that_do_not_divide_the_total(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    seen: list[dict[str, Any]] = []
    sizes = []
    while True:
        page = await list_sessions(http, emu, limit=7, offset=len(seen))
        sizes.append(len(page["data"]))
        seen.extend(page["data"])
        assert page["total"] == 60
        assert page["has_more"] == (len(seen) < 60)
        if not page["has_more"]:
            break
    assert sizes == [7] * 8 + [4]
    assert len({s["id"] for s in seen}) == 60
    assert seen == sorted(seen, key=order_key, reverse=True)
    assert len({s["created_at"] for s in seen}) == 60  # strictly decreasing


async def test_session_shape(emu: Emulator, http: aiohttp.ClientSession) -> None:
    for session in await all_sessions(http, emu):
        assert set(session) == {
            "id",
            "tenant_id",
            "status",
            "direction",
            "to",
            "from",
            "agent_key",
            "created_at",
            "started_at",
            "ended_at",
            "duration_seconds",
            "call_sid",
            "metadata",
        }
        assert SESSION_ID.fullmatch(session["id"])
        assert session["status"] in STATUSES
        assert session["direction"] in {"inbound", "outbound"}
        assert ISO_SECONDS.fullmatch(session["created_at"])
        assert parse_iso(session["ended_at"]) <= time.time()
        if session["status"] == "completed":
            started = parse_iso(session["started_at"])
            ended = parse_iso(session["ended_at"])
            assert started is not None and ended is not None
            assert ended - started == session["duration_seconds"]
        else:
            assert session["started_at"] is None
            assert session["duration_seconds"] == 0


async def test_offset_past_the_end(emu: Emulator, http: aiohttp.ClientSession) -> None:
    page = await list_sessions(http, emu, offset=60)
    assert (page["data"], page["total"], page["has_more"]) == ([], 60, False)
    page = await list_sessions(http, emu, offset=10**9)
    assert page["data"] == []


@pytest.mark.parametrize("limit", [1, 100])
async def test_limit_bounds_are_accepted(
    emu: Emulator, http: aiohttp.ClientSession, limit: int
) -> None:
    page = await list_sessions(http, emu, limit=limit)
    assert len(page["data"]) == min(limit, 60)


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("limit=", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("status=bogus", "status"),
        ("direction=sideways", "direction"),
        ("agent_key=bad%20key", "agent_key"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2026-13-01T00:00:00Z", "created_before"),
    ],
)
async def test_bad_queries_are_400(
    emu: Emulator, http: aiohttp.ClientSession, query: str, param: str
) -> None:
    reply = await request(
        http, "GET", f"{emu.base_url}/api/v1/voice-sessions?{query}", headers=auth(emu)
    )
    assert reply.status == 400
    assert reply.error()["type"] == "invalid_request"
    assert reply.error()["param"] == param


async def test_list_needs_auth(emu: Emulator, http: aiohttp.ClientSession) -> None:
    reply = await request(http, "GET", f"{emu.base_url}/api/v1/voice-sessions")
    assert reply.status == 401
    assert reply.error()["type"] == "authentication_error"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "completed"),
        ("status", "busy"),
        ("direction", "inbound"),
        ("direction", "outbound"),
        ("agent_key", "support_primary"),
    ],
)
async def test_attribute_filters(
    emu: Emulator, http: aiohttp.ClientSession, name: str, value: str
) -> None:
    everything = await all_sessions(http, emu)
    expected = [s for s in everything if s[name] == value]
    filtered = await all_sessions(http, emu, **{name: value})
    assert filtered == expected
    assert (await list_sessions(http, emu, **{name: value}))["total"] == len(expected)


async def test_time_filters_are_exclusive(emu: Emulator, http: aiohttp.ClientSession) -> None:
    everything = await all_sessions(http, emu)
    pivot = everything[20]["created_at"]
    before = await all_sessions(http, emu, created_before=pivot)
    after = await all_sessions(http, emu, created_after=pivot)
    assert before == everything[21:]
    assert after == everything[:20]
    low, high = everything[40]["created_at"], everything[10]["created_at"]
    between = await all_sessions(
        http, emu, created_after=low, created_before=high, direction="outbound"
    )
    assert between == [s for s in everything[11:40] if s["direction"] == "outbound"]
    # Offsets and naive timestamps are understood too.
    naive = pivot.rstrip("Z")
    assert await all_sessions(http, emu, created_before=naive) == before
    assert await all_sessions(http, emu, created_before=naive + "+00:00") == before


async def test_placed_and_inserted_sessions_come_first(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    placed = (await place_call(http, emu)).json()["session_id"]
    inserted = emu.insert_sessions(3)
    assert len(set(inserted)) == 3
    page = await list_sessions(http, emu, limit=5)
    assert [s["id"] for s in page["data"][:4]] == [*reversed(inserted), placed]
    assert page["total"] == 64
    assert page["data"] == sorted(page["data"], key=order_key, reverse=True)


@pytest.mark.parametrize("shape", ["bare", "sessions", "items"])
async def test_list_shapes(emu: Emulator, http: aiohttp.ClientSession, shape: str) -> None:
    envelope = await list_sessions(http, emu, limit=10, offset=55)
    emu.list_shape = shape
    page = await list_sessions(http, emu, limit=10, offset=55)
    expected = envelope["data"]
    assert len(expected) == 5
    if shape == "bare":
        assert page == expected
    else:
        assert page == {shape: expected}


async def test_list_shape_is_a_constructor_option_and_checked(
    http: aiohttp.ClientSession,
) -> None:
    async with Emulator(sessions=3, list_shape="items") as emu:
        assert len((await list_sessions(http, emu))["items"]) == 3
        with pytest.raises(ValueError, match="list_shape"):
            emu.list_shape = "nested"
    with pytest.raises(ValueError, match="list_shape"):
        Emulator(list_shape="xml")


async def test_get_session(emu: Emulator, http: aiohttp.ClientSession) -> None:
    listed = (await list_sessions(http, emu, offset=42, limit=1))["data"][0]
    url = f"{emu.base_url}/api/v1/voice-sessions/{listed['id']}"
    reply = await request(http, "GET", url, headers=auth(emu))
    assert reply.status == 200
    assert reply.json() == listed


@pytest.mark.parametrize(
    "session_id", ["vs_nope", "vs_01M89R7R7TV3RS3DTR98H6BCFN", "vs_" + "Z" * 26, "x"]
)
async def test_unknown_session_is_404(
    emu: Emulator, http: aiohttp.ClientSession, session_id: str
) -> None:
    url = f"{emu.base_url}/api/v1/voice-sessions/{session_id}"
    reply = await request(http, "GET", url, headers=auth(emu))
    assert reply.status == 404
    assert reply.error()["type"] == "not_found"


async def test_get_session_needs_auth(emu: Emulator, http: aiohttp.ClientSession) -> None:
    session_id = emu.insert_sessions(1)[0]
    url = f"{emu.base_url}/api/v1/voice-sessions/{session_id}"
    assert (await request(http, "GET", url)).status == 401


async def test_head_insertion_shifts_pages(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.head_insert_on_page(2)
    first = await list_sessions(http, emu, limit=5)
    second = await list_sessions(http, emu, limit=5, offset=5)
    assert first["total"] == 62
    assert second["total"] == 64
    assert second["data"][:2] == first["data"][3:]  # two items come again
    emu.faults.clear()
    assert (await list_sessions(http, emu))["total"] == 64


async def test_seeding_100k_is_fast_and_consistent(http: aiohttp.ClientSession) -> None:
    started = time.perf_counter()
    async with Emulator(sessions=100_000, seed=3) as emu:
        assert time.perf_counter() - started < 1.0
        tail = await list_sessions(http, emu, limit=100, offset=99_950)
        assert (len(tail["data"]), tail["total"], tail["has_more"]) == (50, 100_000, False)
        last = tail["data"][-1]
        url = f"{emu.base_url}/api/v1/voice-sessions/{last['id']}"
        assert (await request(http, "GET", url, headers=auth(emu))).json() == last
        scan = time.perf_counter()
        busy = await list_sessions(http, emu, status="busy", limit=100, offset=1000)
        assert time.perf_counter() - scan < 3.0
        assert 3_000 < busy["total"] < 7_000
        assert all(s["status"] == "busy" for s in busy["data"])
    assert time.perf_counter() - started < 5.0


async def test_a_million_sessions_start_instantly(http: aiohttp.ClientSession) -> None:
    started = time.perf_counter()
    async with Emulator(sessions=1_000_000) as emu:
        page = await list_sessions(http, emu, limit=3, offset=999_998)
        assert len(page["data"]) == 2
    assert time.perf_counter() - started < 1.0


async def test_seeded_data_depends_only_on_the_seed(http: aiohttp.ClientSession) -> None:
    def stable(sessions: list[Any]) -> list[Any]:
        keep = (
            "status",
            "direction",
            "to",
            "from",
            "agent_key",
            "duration_seconds",
            "call_sid",
            "metadata",
        )
        return [tuple(s[k] for k in keep) for s in sessions]

    pages = []
    for seed in (5, 5, 6):
        async with Emulator(sessions=40, seed=seed) as emu:
            pages.append(stable((await list_sessions(http, emu, limit=40))["data"]))
    assert pages[0] == pages[1]
    assert pages[0] != pages[2]
