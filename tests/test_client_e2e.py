"""The client end to end against the emulator on loopback: real sockets both sides."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from voice_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncVoiceClient,
    AuthenticationError,
    ClientClosedError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    Runtime,
    SessionStatus,
    Timeout,
    UnprocessableEntityError,
)
from voice_async.testing import Emulator

CALL: dict[str, Any] = {
    "to": "+15555555678",
    "from_": "+15555551234",
    "agent_key": "support_primary",
}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(sessions=12, seed=3) as emulator:
        emulator.faults.hang_seconds = 30.0
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncVoiceClient]:
    async with AsyncVoiceClient(
        api_key=emu.api_key,
        admin_key=emu.admin_key,
        base_url=emu.base_url,
        timeout=Timeout(total=2.0, connect=1.0),
        runtime=Runtime(sleep=_no_wait),
    ) as c:
        yield c


async def _no_wait(_: float) -> None:
    await asyncio.sleep(0)


async def test_make_call_and_read_it_back(client: AsyncVoiceClient, emu: Emulator) -> None:
    call = await client.make_call(**CALL, metadata={"order_id": "A-1001"})
    assert call.session_id.startswith("vs_") and call.status is SessionStatus.QUEUED
    assert (call.to, call.from_, call.agent_key) == (
        "+15555555678",
        "+15555551234",
        "support_primary",
    )
    assert call.metadata == {"order_id": "A-1001"} and call.created_at.tzinfo is not None
    session = await client.sessions.get(call.session_id)
    assert session.id == call.session_id and session.direction == "outbound"
    assert emu.stats.calls_placed == 1


async def test_same_idempotency_key_places_one_call(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    first = await client.make_call(**CALL, idempotency_key="order-7")
    again = await client.make_call(**CALL, idempotency_key="order-7")
    assert first == again and emu.stats.calls_placed == 1
    with pytest.raises(ConflictError) as info:
        await client.make_call(**{**CALL, "to": "+15555550000"}, idempotency_key="order-7")
    assert info.value.error_type == "idempotency_conflict" and info.value.request_id


@pytest.mark.parametrize(
    "kind", ["500", "502_html", "503", "429", "reset", "empty_500", "truncated_json"]
)
async def test_transient_fault_then_success_places_one_call(
    client: AsyncVoiceClient, emu: Emulator, kind: str
) -> None:
    emu.faults.script(kind, route="make_call")
    call = await client.make_call(**CALL)
    assert emu.stats.calls_placed == 1
    assert emu.stats.requests["make_call"] == 2
    assert (await client.sessions.get(call.session_id)).id == call.session_id


@pytest.mark.parametrize("kind", ["reset", "truncated_json", "500"])
async def test_response_lost_after_placing_is_deduplicated(
    client: AsyncVoiceClient, emu: Emulator, kind: str
) -> None:
    """The call was placed but its answer lost: the retry must not dial again."""
    emu.faults.script(kind, route="make_call", when="after")
    call = await client.make_call(**CALL)
    assert emu.stats.calls_placed == 1 and emu.stats.requests["make_call"] == 2
    assert (await client.sessions.list(limit=1)).data[0].id == call.session_id


async def test_hang_times_out_then_retry_succeeds(emu: Emulator) -> None:
    async with AsyncVoiceClient(
        api_key=emu.api_key, base_url=emu.base_url, timeout=0.3, runtime=Runtime(sleep=_no_wait)
    ) as c:
        emu.faults.script("hang", route="make_call", when="after")
        call = await c.make_call(**CALL)
    assert emu.stats.calls_placed == 1
    assert call.session_id == emu.session(call.session_id)["id"]  # type: ignore[index]


async def test_timeouts_exhaust_to_typed_error(emu: Emulator) -> None:
    async with AsyncVoiceClient(
        api_key=emu.api_key,
        base_url=emu.base_url,
        timeout=0.2,
        max_retries=1,
        runtime=Runtime(sleep=_no_wait),
    ) as c:
        emu.faults.script("hang", "hang", route="get_session")
        with pytest.raises(APITimeoutError):
            await c.sessions.get("vs_nope")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("503", InternalServerError),
        ("502_html", InternalServerError),
        ("429", RateLimitError),
        ("reset", APIConnectionError),
        ("truncated_json", APIResponseValidationError),
    ],
)
async def test_persistent_fault_exhausts_retries(
    client: AsyncVoiceClient, emu: Emulator, kind: str, error: type[Exception]
) -> None:
    emu.faults.fail_rate(1.0, kinds=[kind], route="list_sessions")
    with pytest.raises(error):
        await client.sessions.list()
    # 1 + max_retries attempts; aiohttp itself may resend an idempotent GET
    # once when a connection was reset under it (so up to 2 per attempt).
    assert 3 <= emu.stats.requests["list_sessions"] <= 6


async def test_html_502_error_carries_excerpt_and_request_id(
    emu: Emulator,
) -> None:
    async with AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        emu.faults.script("502_html", route="get_session")
        with pytest.raises(InternalServerError) as info:
            await c.sessions.get("vs_x")
    assert info.value.status == 502 and info.value.request_id
    assert "<" in info.value.body_excerpt or "Bad Gateway" in info.value.body_excerpt


async def test_status_errors_from_the_server(client: AsyncVoiceClient, emu: Emulator) -> None:
    with pytest.raises(NotFoundError) as not_found:
        await client.sessions.get("vs_DOESNOTEXIST")
    assert not_found.value.error_type == "not_found" and not_found.value.request_id
    with pytest.raises(UnprocessableEntityError):
        await client.make_call(**{**CALL, "agent_key": "unknown_agent"})
    async with AsyncVoiceClient(
        api_key="sk_wrong_key_000000", admin_key="adm_wrong_000000", base_url=emu.base_url
    ) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.sessions.list()
        assert "sk_wrong_key_000000" not in str(info.value)
        with pytest.raises(AuthenticationError):
            await bad.admin.get_runtime_config(emu.tenant_id)
    assert emu.stats.calls_placed == 0


async def test_admin_optimistic_concurrency(client: AsyncVoiceClient, emu: Emulator) -> None:
    config = await client.admin.get_runtime_config(emu.tenant_id)
    updated = await client.admin.update_runtime_config(
        emu.tenant_id, voice="verse", temperature=0.5, if_match=config.version
    )
    assert (updated.voice, updated.temperature, updated.version) == (
        "verse",
        0.5,
        config.version + 1,
    )
    with pytest.raises(ConflictError):
        await client.admin.update_runtime_config(
            emu.tenant_id, voice="alloy", if_match=config.version
        )
    with pytest.raises(NotFoundError):
        await client.admin.get_runtime_config("tn_unknown")


# -- lifecycle ---------------------------------------------------------------


def _unclosed_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


async def test_no_unclosed_session_warnings(emu: Emulator) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url) as c:
            await c.sessions.list()
        assert c.is_closed
        # a failing request must not leak the session either
        c2 = AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
        emu.faults.fail_rate(1.0, kinds=["reset"], route="list_sessions")
        with pytest.raises(APIConnectionError):
            await c2.sessions.list()
        await c2.aclose()
        del c, c2
        gc.collect()
        await asyncio.sleep(0)
    assert _unclosed_warnings(caught) == []


async def test_the_warning_check_can_fail(emu: Emulator) -> None:
    """Negative control: an unclosed raw aiohttp session *is* reported."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        leaked = aiohttp.ClientSession()
        loop = asyncio.get_running_loop()
        handler = loop.get_exception_handler()
        loop.set_exception_handler(lambda *_: None)
        try:
            del leaked
            gc.collect()
        finally:
            loop.set_exception_handler(handler)
    assert any("Unclosed client session" in m for m in _unclosed_warnings(caught))


async def test_user_session_is_not_closed(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as mine:
        async with AsyncVoiceClient(
            api_key=emu.api_key, base_url=emu.base_url, http_session=mine
        ) as c:
            await c.sessions.list()
        assert not mine.closed
        async with mine.get(f"{emu.base_url}/healthz") as resp:
            assert resp.status == 200


async def test_a_closed_user_session_is_a_typed_error(emu: Emulator) -> None:
    """Not aiohttp's raw ``RuntimeError('Session is closed')``."""
    mine = aiohttp.ClientSession()
    await mine.close()
    async with AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url, http_session=mine) as c:
        with pytest.raises(ClientClosedError, match="http_session is closed"):
            await c.sessions.list()


async def test_use_after_close_is_a_clear_error(emu: Emulator) -> None:
    c = AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url)
    await c.aclose()
    await c.aclose()  # idempotent
    with pytest.raises(ClientClosedError, match="closed"):
        await c.sessions.list()


async def test_client_is_bound_to_one_loop(emu: Emulator) -> None:
    c = AsyncVoiceClient(api_key=emu.api_key, base_url=emu.base_url)
    await c.sessions.list()
    errors: list[BaseException] = []

    def other_loop() -> None:
        try:
            asyncio.run(c.sessions.list())
        except BaseException as exc:
            errors.append(exc)

    await asyncio.to_thread(other_loop)
    await c.aclose()
    assert len(errors) == 1 and isinstance(errors[0], ClientClosedError)
    assert "another event loop" in str(errors[0])


def test_client_can_be_built_outside_a_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Construction does no I/O and needs no loop (e.g. at module import time)."""
    client = AsyncVoiceClient(api_key="sk_test_construct_only", base_url="http://localhost:1")
    assert not client.is_closed
