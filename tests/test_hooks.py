"""``event_hooks``: what hooks see of each call, against the emulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from voice_async import (
    APIStatusError,
    AsyncVoiceClient,
    InternalServerError,
    InvalidRequestError,
    RequestInfo,
    ResponseInfo,
    RetryInfo,
    Runtime,
    StreamConnectInfo,
)
from voice_async._hooks import STREAM_URL_TEMPLATE
from voice_async.testing import Emulator

from ._recorder import Recorder

CALL = {"to": "+15555555678", "from_": "+15555551234", "agent_key": "support_primary"}


async def _no_wait(delay: float) -> None:
    return None


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


def _client(emu: Emulator, **kwargs: object) -> AsyncVoiceClient:
    return AsyncVoiceClient(
        api_key=emu.api_key,
        admin_key=emu.admin_key,
        base_url=emu.base_url,
        runtime=Runtime(sleep=_no_wait),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_request_response_retry_in_order_with_templates(emu: Emulator) -> None:
    rec = Recorder()
    emu.faults.script("503", "reset", route="make_call")
    async with _client(emu, event_hooks=rec.hooks("request", "response", "retry")) as c:
        call = await c.make_call(**CALL)
    kinds = [type(i).__name__ for i in rec.seen]
    assert kinds == [
        "RequestInfo", "ResponseInfo", "RetryInfo",  # 503: an answer, then a retry
        "RequestInfo", "RetryInfo",  # reset: no answer at all
        "RequestInfo", "ResponseInfo",
    ]  # fmt: skip
    requests = [i for i in rec.seen if isinstance(i, RequestInfo)]
    assert [r.attempt for r in requests] == [1, 2, 3]
    assert {(r.operation, r.method, r.url_template) for r in requests} == {
        ("make_call", "POST", "/api/v1/make-call")
    }
    first, last = (i for i in rec.seen if isinstance(i, ResponseInfo))
    assert first.status == 503 and first.attempt == 1 and first.elapsed >= 0
    assert last.status in (200, 201) and last.attempt == 3 and last.request_id
    assert last.headers["x-request-id"] == last.request_id
    retries = [i for i in rec.seen if isinstance(i, RetryInfo)]
    assert [(r.attempt, r.status) for r in retries] == [(1, 503), (2, None)]
    assert isinstance(retries[0].error, APIStatusError) and retries[0].delay >= 0
    assert emu.session(call.session_id) is not None


async def test_url_template_leaves_ids_out(emu: Emulator) -> None:
    rec = Recorder()
    async with _client(emu, event_hooks=rec.hooks("request", "response")) as c:
        await c.admin.get_runtime_config(emu.tenant_id)
    assert all(emu.tenant_id not in repr(i) for i in rec.seen)
    info = rec.seen[0]
    assert isinstance(info, RequestInfo)
    assert info.operation == "admin.get_runtime_config"
    assert info.url_template == "/api/v1/admin/tenants/{tenant_id}/runtime-config"


async def test_a_failed_call_reports_its_answers_then_raises(emu: Emulator) -> None:
    rec = Recorder()
    emu.faults.script("500", "500", "500", route="make_call")
    async with _client(emu, event_hooks=rec.hooks("response", "retry")) as c:
        with pytest.raises(InternalServerError):
            await c.make_call(**CALL)
    statuses = [i.status for i in rec.seen if isinstance(i, ResponseInfo)]
    assert statuses == [500, 500, 500]
    assert len([i for i in rec.seen if isinstance(i, RetryInfo)]) == 2


async def test_a_raising_hook_does_not_break_the_call_and_is_logged_once_masked(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    async def broken(info: object) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError(f"hook saw {emu.api_key}")

    rec = Recorder()
    hooks = {"request": [broken, rec], "response": [broken]}
    with caplog.at_level(logging.DEBUG, logger="voice_async"):
        async with _client(emu, event_hooks=hooks) as c:
            await c.make_call(**CALL)
            await c.make_call(**CALL)
    assert calls == 4 and len(rec.seen) == 2  # later hooks still ran
    failures = [r for r in caplog.records if "broken" in r.getMessage()]
    assert [r.levelno for r in failures] == [
        logging.WARNING, logging.DEBUG, logging.DEBUG, logging.DEBUG
    ]  # fmt: skip
    assert all(emu.api_key not in r.getMessage() for r in caplog.records)
    assert "****" in failures[0].getMessage()


async def test_with_options_replaces_hooks_and_shares_the_pool(emu: Emulator) -> None:
    parent, child = Recorder(), Recorder()
    async with _client(emu, event_hooks=parent.hooks("request")) as c:
        view = c.with_options(event_hooks=child.hooks("request"))
        await view.make_call(**CALL)
        await c.with_options(timeout=30).make_call(**CALL)  # keeps the parent's hooks
        await c.with_options(event_hooks={}).make_call(**CALL)  # none
    assert len(child.seen) == 1 and len(parent.seen) == 1


def test_bad_hooks_fail_at_construction() -> None:
    with pytest.raises(InvalidRequestError, match="unknown hook"):
        AsyncVoiceClient(api_key="sk_test_x", event_hooks={"requests": []})
    with pytest.raises(InvalidRequestError, match="not callable"):
        AsyncVoiceClient(api_key="sk_test_x", event_hooks={"request": ["print"]})  # type: ignore[list-item]
    with pytest.raises(InvalidRequestError, match="list"):
        AsyncVoiceClient(api_key="sk_test_x", event_hooks={"request": print})  # type: ignore[dict-item]


async def test_stream_hooks_dispatch_through_the_transport(emu: Emulator) -> None:
    """The seam the events stream calls (``Transport.emit``) runs the stream hooks."""
    rec = Recorder()
    async with _client(emu, event_hooks=rec.hooks("stream_connect")) as c:
        info = StreamConnectInfo("vs_1", STREAM_URL_TEMPLATE, 1, 0)
        await c._transport.emit("stream_connect", info)
        await c._transport.emit("stream_reconnect", info)  # no hook registered: nothing
    assert rec.seen == [info]
