"""R3 (inputs): bad arguments never reach the wire, and good ones are never refused.

Differential fuzzing against the emulator, which validates like the service:
for arbitrary arguments the SDK either raises :class:`InvalidRequestError`
*without sending anything*, or sends a request the server accepts.  A
``BadRequestError`` (400) would mean the SDK let through input it should have
caught; an ``InvalidRequestError`` for a well-formed value would mean it
refuses what the server accepts.  The explicit examples are the issue's table:
bad E.164 numbers, ``limit`` 0 and 101, negative offsets, huge metadata.
"""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from voice_async import AsyncVoiceClient, Call, InvalidRequestError, SessionPage, VoiceError
from voice_async.testing import Emulator

from .conftest import client_for

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
AGENT = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
KEY = re.compile(r"[\x21-\x7e]{1,255}")
HUGE = {"blob": "x" * (16 * 1024)}  # just over 16 KiB once encoded

phones = st.one_of(
    st.from_regex(r"\+?[0-9]{0,17}", fullmatch=True),
    st.text(max_size=20),
    st.integers(),
    st.none(),
)
agent_keys = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.\-]{0,130}", fullmatch=True),
    st.text(max_size=40),
    st.none(),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
metadatas = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2),
    st.just({"big": "é" * 3_000}),
)
idem_keys = st.one_of(st.none(), st.text(max_size=10), st.text(string.printable, max_size=300))


def sent_total(emu: Emulator) -> int:
    return sum(emu.stats.requests.values())


async def attempt(emu: Emulator, client: AsyncVoiceClient, call: Any) -> Any:
    """Run one SDK call; an InvalidRequestError must come with nothing sent."""
    before = sent_total(emu)
    try:
        return await call
    except InvalidRequestError as exc:
        assert sent_total(emu) == before, f"{exc} was raised after sending a request"
        return exc
    except VoiceError as exc:  # anything else the server said: the test judges it
        return exc


@pytest.fixture
async def client(emu: Emulator) -> Any:
    async with client_for(emu, max_retries=0) as c:
        yield c


@FUZZ
@given(to=phones, from_=phones, agent_key=agent_keys, metadata=metadatas, key=idem_keys)
@example(to="5555555678", from_="+15555551234", agent_key="a", metadata=None, key=None)
@example(to="+05555555678", from_="+15555551234", agent_key="a", metadata=None, key=None)
@example(to="+1555", from_="+15555551234", agent_key="a", metadata=None, key=None)
@example(to="+1555555567812345", from_="+15555551234", agent_key="a", metadata=None, key=None)
@example(to="+15555555678\n", from_="+15555551234", agent_key="a", metadata=None, key=None)
@example(to="+15555555678", from_="+15555551234", agent_key="a", metadata=HUGE, key=None)
@example(to="+15555555678", from_="+15555551234", agent_key="a b", metadata=None, key="k")
@example(to="+15555555678", from_="+15555551234", agent_key="a", metadata=None, key="has space")
async def test_make_call_inputs(
    emu: Emulator,
    client: AsyncVoiceClient,
    to: Any,
    from_: Any,
    agent_key: Any,
    metadata: Any,
    key: Any,
) -> None:
    result = await attempt(
        emu,
        client,
        client.make_call(
            to=to, from_=from_, agent_key=agent_key, metadata=metadata, idempotency_key=key
        ),
    )
    well_formed = (
        all(isinstance(n, str) and E164.fullmatch(n) for n in (to, from_))
        and isinstance(agent_key, str)
        and AGENT.fullmatch(agent_key) is not None
        and (key is None or KEY.fullmatch(key) is not None)
        and (metadata is None or all(isinstance(k, str) for k in metadata))
        and metadata is not HUGE
    )
    if isinstance(result, InvalidRequestError):
        assert not well_formed, f"refused a valid call: {result}"
        return
    assert well_formed and isinstance(result, Call), repr(result)
    assert (result.to, result.from_, result.agent_key) == (to, from_, agent_key)
    assert dict(result.metadata) == (metadata or {})


pages = st.one_of(st.integers(-3, 130), st.booleans(), st.text(max_size=4), st.floats(), st.none())
stamps = st.one_of(
    st.none(),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.text(max_size=30),
    st.from_regex(
        r"20[0-9]{2}-[0-9]{2}-[0-9]{2}(T[0-9:.]{0,15})?(Z|[+-][0-9]{2}:?[0-9]{2})?", fullmatch=True
    ),
)


@FUZZ
@given(limit=pages, offset=pages, after=stamps, before=stamps)
@example(limit=0, offset=0, after=None, before=None)
@example(limit=101, offset=0, after=None, before=None)
@example(limit=25, offset=-1, after=None, before=None)
@example(limit=True, offset=0, after=None, before=None)
@example(limit=25, offset=0, after="yesterday", before=None)
async def test_list_inputs(
    emu: Emulator, client: AsyncVoiceClient, limit: Any, offset: Any, after: Any, before: Any
) -> None:
    result = await attempt(
        emu,
        client,
        client.sessions.list(
            limit=limit, offset=offset, created_after=after, created_before=before
        ),
    )
    in_range = type(limit) is int and 1 <= limit <= 100 and type(offset) is int and offset >= 0
    if isinstance(result, InvalidRequestError):
        assert not in_range or result.field in ("created_after", "created_before"), str(result)
        return
    assert in_range and isinstance(result, SessionPage), repr(result)


@FUZZ
@given(session_id=st.one_of(st.text(max_size=40), st.integers(), st.none()))
@example(session_id="")
@example(session_id="../admin/tenants")
@example(session_id="vs_1/events")
@example(session_id="vs_1?limit=1")
@example(session_id="vs 1")
@example(session_id="%2e%2e")
async def test_session_ids_cannot_change_the_path(
    emu: Emulator, client: AsyncVoiceClient, session_id: Any
) -> None:
    result = await attempt(emu, client, client.sessions.get(session_id))
    if isinstance(result, InvalidRequestError):
        return
    # It was sent: it must have reached get_session (a 404), not another route.
    assert isinstance(result, VoiceError) and getattr(result, "status", None) == 404
    assert emu.stats.requests["unknown"] == 0
