"""Per-request options (issue 15.1): ``with_options``, ``default_headers``, ``extra_headers``.

Settings are checked against the real emulator (timeouts, retries, deadline,
the shared pool); what goes on the wire is read from a loopback server that
records every request's headers (repeated names kept).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from voice_async import (
    APITimeoutError,
    AsyncVoiceClient,
    ClientClosedError,
    ConfigurationError,
    InternalServerError,
    InvalidRequestError,
    Runtime,
    Timeout,
)
from voice_async.testing import Emulator

from .hostile._http_servers import HostileServer, json_reply

CALL: dict[str, Any] = {
    "to": "+15555555678",
    "from_": "+15555551234",
    "agent_key": "support_primary",
}
CALL_BODY = {
    "session_id": "vs_1",
    "status": "queued",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "created_at": "2026-11-25T15:30:00Z",
}
CONFIG_BODY = {"tenant_id": "tn_1", "version": 3}


async def _no_wait(_: float) -> None:
    return None


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=5, event_interval=60.0) as emulator:
        emulator.faults.hang_seconds = 5.0
        yield emulator


def _client(emu: Emulator, **kwargs: Any) -> AsyncVoiceClient:
    return AsyncVoiceClient(
        api_key=emu.api_key,
        admin_key=emu.admin_key,
        base_url=emu.base_url,
        runtime=Runtime(sleep=_no_wait),
        **kwargs,
    )


# -- with_options against the emulator ------------------------------------------------


async def test_with_options_max_retries_applies_to_the_view_only(emu: Emulator) -> None:
    async with _client(emu) as client:
        emu.faults.script("500", route="make_call")
        with pytest.raises(InternalServerError):
            await client.with_options(max_retries=0).make_call(**CALL)
        assert emu.stats.requests["make_call"] == 1 and emu.stats.calls_placed == 0
        emu.faults.script("500", route="make_call")
        await client.make_call(**CALL)  # the client still retries (default 2)
        assert emu.stats.requests["make_call"] == 3 and emu.stats.calls_placed == 1


async def test_with_options_timeout_and_deadline(emu: Emulator) -> None:
    async with _client(emu, timeout=30.0) as client:
        emu.faults.script("hang", route="get_session")
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await client.with_options(timeout=0.3, max_retries=0).sessions.get("vs_x")
        assert time.monotonic() - started < 5.0
        emu.faults.script("hang", "hang", "hang", route="get_session")
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await client.with_options(deadline=0.5).sessions.get("vs_x")
        assert time.monotonic() - started < 5.0
    view = _client(emu, deadline=3.0).with_options(deadline=None, timeout=Timeout(total=9))
    assert view.config.deadline is None and view.config.timeout.total == 9.0


async def test_a_view_shares_the_pool_and_closing_it_keeps_the_pool() -> None:
    async with HostileServer() as server:
        server.handler = json_reply(CONFIG_BODY)
        async with AsyncVoiceClient(
            api_key="sk_test_0123456789abcdef",
            admin_key="adm_test_0123456789abcdef",
            base_url=server.base_url,
        ) as client:
            async with client.with_options(timeout=5) as view:
                await view.admin.get_runtime_config("tn_1")
                await client.admin.get_runtime_config("tn_1")
                await view.with_options(max_retries=1).admin.get_runtime_config("tn_1")
                assert server.open_connections == 1  # one pooled connection for all three
            assert view.is_closed is False
            await client.admin.get_runtime_config("tn_1")  # the pool survived the view
        assert view.is_closed
        with pytest.raises(ClientClosedError):
            await view.admin.get_runtime_config("tn_1")


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": -1},
        {"timeout": float("nan")},
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"deadline": 0},
        {"default_headers": {"Authorization": "Bearer x"}},
        {"default_headers": {"X-Ok": "line\r\nbreak"}},
    ],
)
def test_with_options_rejects_bad_values(options: dict[str, Any]) -> None:
    client = AsyncVoiceClient(api_key="sk_test_0123456789abcdef", base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidRequestError):
        client.with_options(**options)


# -- headers on the wire ---------------------------------------------------------------


@pytest.fixture
async def recorder() -> AsyncIterator[HostileServer]:
    async with HostileServer() as server:
        yield server


def _operations(client: AsyncVoiceClient) -> dict[str, Callable[..., Awaitable[Any]]]:
    """Every endpoint method of calls and admin, taking only ``extra_headers``."""
    return {
        "make_call": lambda **kw: client.make_call(**CALL, **kw),
        "calls.create": lambda **kw: client.calls.create(**CALL, **kw),
        "calls.forward_incoming": lambda **kw: client.calls.forward_incoming({"A": "1"}, **kw),
        "admin.get_runtime_config": lambda **kw: client.admin.get_runtime_config("tn_1", **kw),
        "admin.update_runtime_config": lambda **kw: client.admin.update_runtime_config(
            "tn_1", voice="alloy", **kw
        ),
    }


def _reply_for(name: str) -> Any:
    return json_reply(CALL_BODY if "call" in name and "config" not in name else CONFIG_BODY)


async def test_default_and_extra_headers_reach_the_wire_once(recorder: HostileServer) -> None:
    async with AsyncVoiceClient(
        api_key="sk_test_0123456789abcdef",
        admin_key="adm_test_0123456789abcdef",
        base_url=recorder.base_url,
        default_headers={"X-Team": "voice", "X-Env": "test"},
    ) as client:
        view = client.with_options(default_headers={"x-team": "billing"})
        for name, op in _operations(view).items():
            recorder.handler = _reply_for(name)
            await op(extra_headers={"X-Trace": name, "user-agent": "mine/1", "X-Env": "ci"})
            seen = recorder.request_headers[-1]
            assert seen.getall("X-Team") == ["billing"], name  # view merged over client
            assert seen.getall("X-Env") == ["ci"] and seen.getall("X-Trace") == [name]
            assert seen.getall("User-Agent") == ["mine/1"], name  # replaced, not doubled
        await client.admin.get_runtime_config("tn_1")
        assert recorder.request_headers[-1].getall("X-Team") == ["voice"]
        assert "X-Trace" not in recorder.request_headers[-1]


async def test_make_call_keeps_its_idempotency_key_with_extra_headers(
    recorder: HostileServer,
) -> None:
    recorder.handler = json_reply(CALL_BODY)
    async with AsyncVoiceClient(
        api_key="sk_test_0123456789abcdef", base_url=recorder.base_url
    ) as client:
        await client.make_call(**CALL, idempotency_key="order-7", extra_headers={"X-A": "1"})
    assert recorder.request_headers[-1].getall("Idempotency-Key") == ["order-7"]


@pytest.mark.parametrize(
    "extra",
    [
        {"Authorization": "Bearer stolen"},
        {"authorization": "x"},
        {"X-Admin-Key": "adm_other"},
        {"Idempotency-Key": "mine"},
        {"idempotency-key": "mine"},
        {"X-Bad": "a\nb"},
        {"bad name": "x"},
        {"X-Num": 5},
        ["not", "a", "mapping"],
    ],
    ids=repr,
)
async def test_extra_headers_cannot_replace_credentials_or_the_key(
    recorder: HostileServer, extra: Any
) -> None:
    async with AsyncVoiceClient(
        api_key="sk_test_0123456789abcdef",
        admin_key="adm_test_0123456789abcdef",
        base_url=recorder.base_url,
    ) as client:
        for name, op in _operations(client).items():
            with pytest.raises(InvalidRequestError) as info:
                await op(extra_headers=extra)
            assert info.value.field == "extra_headers", name
    assert recorder.requests == 0


@pytest.mark.parametrize(
    "headers", [{"Authorization": "x"}, {"x-admin-key": "x"}, {"X-Ok": "a\r\nb"}], ids=repr
)
def test_default_headers_are_checked_at_construction(headers: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="default_headers"):
        AsyncVoiceClient(api_key="sk_test_0123456789abcdef", default_headers=headers)
