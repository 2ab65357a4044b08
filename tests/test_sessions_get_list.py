"""``client.sessions.get`` and ``client.sessions.list`` against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice_async import (
    AsyncVoiceClient,
    BadRequestError,
    Direction,
    InvalidRequestError,
    NotFoundError,
    SessionStatus,
    VoiceSession,
    _convert,
)
from voice_async._convert import (
    _STRUCTURE_HOOKS,
    _structure_session,
    parse_datetime,
    unstructure,
)
from voice_async.testing import Emulator

N = 137


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=N, seed=11) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncVoiceClient]:
    async with AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url) as c:
        yield c


def list_requests(emu: Emulator) -> int:
    return emu.stats.requests["list_sessions"]


async def test_get_returns_the_stored_session(client: AsyncVoiceClient, emu: Emulator) -> None:
    first = (await client.sessions.list(limit=1)).data[0]
    session = await client.sessions.get(first.id)
    assert isinstance(session, VoiceSession)
    assert session == first
    stored = emu.session(first.id)
    assert stored is not None
    assert unstructure(session) == stored  # every wire field, nothing lost or invented
    assert session.created_at == parse_datetime(stored["created_at"])


async def test_get_unknown_is_not_found_with_request_id(client: AsyncVoiceClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.sessions.get("vs_01DOESNOTEXIST0000000000000")
    assert info.value.status == 404
    assert info.value.request_id


@pytest.mark.parametrize("bad", ["", "a/b", "../admin", "x y", "id?x=1"])
async def test_get_rejects_ids_that_would_change_the_path(
    client: AsyncVoiceClient, emu: Emulator, bad: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await client.sessions.get(bad)
    assert info.value.field == "session_id"
    assert emu.stats.requests["get_session"] == 0


async def test_list_first_page_defaults(client: AsyncVoiceClient) -> None:
    page = await client.sessions.list()
    assert (page.limit, page.offset, page.total, page.has_more) == (25, 0, N, True)
    assert len(page) == 25
    assert page.next_offset == 25
    keys = [(s.created_at, s.id) for s in page]
    assert keys == sorted(keys, reverse=True)


async def test_walking_next_offset_covers_everything_once(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    ids: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = await client.sessions.list(limit=10, offset=offset)
        ids.extend(s.id for s in page)
        offset = page.next_offset
    assert len(ids) == N == len(set(ids))
    assert list_requests(emu) == 14  # 13 full pages and a short one; none wasted


async def test_list_past_the_end_is_empty(client: AsyncVoiceClient) -> None:
    page = await client.sessions.list(limit=10, offset=N + 5)
    assert page.data == () and page.total == N and page.next_offset is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 1.5}, "offset"),
        ({"agent_key": "has space"}, "agent_key"),
        ({"created_after": "not a date"}, "created_after"),
        ({"status": ""}, "status"),
    ],
)
async def test_list_validates_before_sending(
    client: AsyncVoiceClient, emu: Emulator, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await client.sessions.list(**kwargs)
    assert info.value.field == field
    assert list_requests(emu) == 0


async def test_list_limit_bounds_are_accepted(client: AsyncVoiceClient) -> None:
    assert len(await client.sessions.list(limit=1)) == 1
    assert len(await client.sessions.list(limit=100)) == 100


async def test_list_filters(client: AsyncVoiceClient) -> None:
    everything = (await client.sessions.list(limit=100)).data
    everything += (await client.sessions.list(limit=100, offset=100)).data
    completed = await client.sessions.list(limit=100, status=SessionStatus.COMPLETED)
    assert completed.total == sum(s.status == SessionStatus.COMPLETED for s in everything)
    assert completed.data and all(s.status == SessionStatus.COMPLETED for s in completed)
    inbound = await client.sessions.list(limit=100, direction=Direction.INBOUND)
    assert inbound.total == sum(s.direction == Direction.INBOUND for s in everything)
    agent = everything[0].agent_key
    by_agent = await client.sessions.list(limit=100, agent_key=agent)
    assert by_agent.total == sum(s.agent_key == agent for s in everything)
    lo, hi = everything[60].created_at, everything[20].created_at
    window = await client.sessions.list(limit=100, created_after=lo, created_before=hi)
    assert [s.id for s in window] == [s.id for s in everything[21:60]]  # both bounds exclusive


async def test_unknown_status_filter_is_the_servers_400(client: AsyncVoiceClient) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.sessions.list(status="on_hold")
    assert info.value.param == "status"


@pytest.mark.parametrize("shape", ["bare", "sessions", "items"])
async def test_list_tolerates_other_shapes(
    client: AsyncVoiceClient, emu: Emulator, shape: str
) -> None:
    emu.list_shape = shape
    page = await client.sessions.list(limit=50, offset=100)
    assert len(page) == N - 100
    assert (page.limit, page.offset, page.total, page.has_more) == (50, 100, None, None)
    assert page.next_offset is None  # short page = last page
    full = await client.sessions.list(limit=50)
    assert full.next_offset == 50  # full page: maybe more


# -- the hand-written VoiceSession decoder -----------------------------------------
#
# ``_convert._structure_session`` replaces the cattrs-generated hook on the hot
# path (every session of every page).  The generated hook stays the reference:
# for any payload, both must build equal sessions (same value types) or both fail.

SESSION: dict[str, Any] = {
    "id": "vs_01JD8Z6Q0A",
    "tenant_id": "tn_123",
    "status": "completed",
    "direction": "outbound",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "created_at": "2026-11-25T15:30:00Z",
    "started_at": "2026-11-25T15:30:04.5+02:00",
    "ended_at": "2026-11-25T15:33:10",
    "duration_seconds": 186,
    "call_sid": "CA0123",
    "metadata": {"order_id": "A-1001"},
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
timestamps = st.datetimes(timezones=st.none() | st.timezones()).flatmap(
    lambda d: st.sampled_from(
        [d.isoformat(), d.isoformat(timespec="milliseconds"), d.isoformat(sep=" ")]
    ).flatmap(
        lambda text: st.sampled_from(
            [text, text + "Z", text + "z", f" {text} ", text.replace("+00:00", "Z")]
        )
    )
)
field_values = (
    json_values
    | timestamps
    | st.sampled_from([*SessionStatus, *Direction]).map(str)
    | st.sampled_from(["extra", "from_", "from"])
)


def _outcome(hook: Any, payload: Any) -> Any:
    try:
        session = hook(payload, VoiceSession) if hook is not _structure_session else hook(payload)
    except (KeyError, TypeError, ValueError) as exc:
        return type(exc)
    values = attrs.astuple(session, recurse=False)
    return session, [type(v) for v in values], [getattr(v, "tzinfo", None) for v in values]


@settings(max_examples=400, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from([*SESSION, "extra", "from_", "x"]), field_values),
    dropped=st.sets(st.sampled_from(list(SESSION))),
)
def test_hand_written_session_decoder_matches_the_generated_one(
    changes: dict[str, Any], dropped: set[str]
) -> None:
    payload = {k: v for k, v in {**SESSION, **changes}.items() if k not in dropped}
    generated = _STRUCTURE_HOOKS[VoiceSession]
    expected = _outcome(generated, payload)
    if len(changes) + len(dropped) > 1 and isinstance(expected, type):
        # Several broken fields: the two may stop at different ones first.
        assert isinstance(_outcome(_structure_session, payload), type)
    else:
        assert _outcome(_structure_session, payload) == expected


@given(value=json_values)
def test_hand_written_decoder_rejects_what_the_generated_one_rejects(value: Any) -> None:
    assert _outcome(_structure_session, value) == _outcome(_STRUCTURE_HOOKS[VoiceSession], value)


@settings(max_examples=300)
@given(text=timestamps | st.text(max_size=30))
def test_native_isoformat_fast_path_changes_nothing(text: str) -> None:
    def parse(native: bool) -> Any:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_convert, "_NATIVE_ISO", native)
            try:
                parsed = parse_datetime(text)
            except ValueError:
                return ValueError
            return parsed, parsed.utcoffset()

    assert parse(True) == parse(False)
