"""Transport behaviour that needs exact status sequences: driven by aioresponses."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from aioresponses import aioresponses

import voice_async
from voice_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AsyncVoiceClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

from .conftest import ADMIN_KEY, API_KEY, BASE, FakeSleep

MAKE_CALL = re.compile(r".*/api/v1/make-call$")
CALL_BODY = {
    "session_id": "vs_01",
    "call_sid": "CA01",
    "status": "queued",
    "to": "+15555555678",
    "from": "+15555551234",
    "agent_key": "support_primary",
    "created_at": "2026-11-25T15:30:00Z",
    "metadata": {},
}
CALL_ARGS: dict[str, Any] = {
    "to": "+15555555678",
    "from_": "+15555551234",
    "agent_key": "support_primary",
}


def sent(m: aioresponses) -> list[Any]:
    return [call for calls in m.requests.values() for call in calls]


def error_body(type_: str, message: str = "nope", param: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "param": param}}


async def test_retry_then_success_reuses_idempotency_key(mocked_client: AsyncVoiceClient) -> None:
    with aioresponses() as m:
        m.post(MAKE_CALL, status=503, payload=error_body("server_error"))
        m.post(MAKE_CALL, exception=__import__("aiohttp").ServerDisconnectedError())
        m.post(MAKE_CALL, status=201, payload=CALL_BODY)
        call = await mocked_client.make_call(**CALL_ARGS)
    assert call.session_id == "vs_01"
    keys = [c.kwargs["headers"]["Idempotency-Key"] for c in sent(m)]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert re.fullmatch(r"[0-9a-f-]{36}", keys[0])


async def test_caller_idempotency_key_is_sent(mocked_client: AsyncVoiceClient) -> None:
    with aioresponses() as m:
        m.post(MAKE_CALL, status=201, payload=CALL_BODY)
        await mocked_client.make_call(**CALL_ARGS, idempotency_key="order-A-1001")
    assert sent(m)[0].kwargs["headers"]["Idempotency-Key"] == "order-A-1001"


async def test_each_make_call_gets_a_fresh_key(mocked_client: AsyncVoiceClient) -> None:
    with aioresponses() as m:
        m.post(MAKE_CALL, status=201, payload=CALL_BODY, repeat=True)
        await mocked_client.make_call(**CALL_ARGS)
        await mocked_client.make_call(**CALL_ARGS)
    keys = {c.kwargs["headers"]["Idempotency-Key"] for c in sent(m)}
    assert len(keys) == 2


async def test_retry_exhaustion_raises_last_error(
    mocked_client: AsyncVoiceClient, fake_sleep: FakeSleep
) -> None:
    with aioresponses() as m:
        m.post(
            MAKE_CALL,
            status=500,
            payload=error_body("server_error"),
            repeat=True,
            headers={"x-request-id": "req_42"},
        )
        with pytest.raises(InternalServerError) as info:
            await mocked_client.make_call(**CALL_ARGS)
    assert len(sent(m)) == 3  # 1 + max_retries (2)
    assert info.value.status == 500 and info.value.request_id == "req_42"
    assert len(fake_sleep.delays) == 2
    # full jitter: each delay within [0, 0.5 * 2**i]
    assert 0 <= fake_sleep.delays[0] <= 0.5 and 0 <= fake_sleep.delays[1] <= 1.0


async def test_retry_after_seconds_is_honoured(
    mocked_client: AsyncVoiceClient, fake_sleep: FakeSleep
) -> None:
    with aioresponses() as m:
        m.post(
            MAKE_CALL, status=429, payload=error_body("rate_limited"), headers={"Retry-After": "7"}
        )
        m.post(MAKE_CALL, status=201, payload=CALL_BODY)
        await mocked_client.make_call(**CALL_ARGS)
    assert fake_sleep.delays == [7.0]


async def test_retry_after_http_date_is_honoured(
    mocked_client: AsyncVoiceClient, fake_sleep: FakeSleep
) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    with aioresponses() as m:
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=503,
            headers={"Retry-After": format_datetime(when, usegmt=True)},
        )
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=200,
            payload={**CALL_BODY, "id": "vs_1", "direction": "outbound"},
        )
        await mocked_client.sessions.get("vs_1")
    assert len(fake_sleep.delays) == 1 and 27 <= fake_sleep.delays[0] <= 30


async def test_retry_after_beyond_cap_raises_at_once(
    mocked_client: AsyncVoiceClient, fake_sleep: FakeSleep
) -> None:
    with aioresponses() as m:
        m.post(
            MAKE_CALL,
            status=429,
            payload=error_body("rate_limited"),
            headers={"Retry-After": "3600"},
        )
        with pytest.raises(RateLimitError) as info:
            await mocked_client.make_call(**CALL_ARGS)
    assert info.value.retry_after == 3600 and fake_sleep.delays == []
    assert len(sent(m)) == 1


async def test_post_without_idempotency_key_is_not_retried(
    mocked_client: AsyncVoiceClient,
) -> None:
    with aioresponses() as m:
        m.post(re.compile(r".*/incoming-call$"), status=503, repeat=True)
        with pytest.raises(InternalServerError):
            await mocked_client.calls.forward_incoming({"CallSid": "CA1"})
    assert len(sent(m)) == 1


async def test_409_in_progress_is_retried_but_conflict_is_not(
    mocked_client: AsyncVoiceClient,
) -> None:
    with aioresponses() as m:
        m.post(MAKE_CALL, status=409, payload=error_body("idempotency_in_progress"))
        m.post(MAKE_CALL, status=201, payload=CALL_BODY)
        await mocked_client.make_call(**CALL_ARGS)
        assert len(sent(m)) == 2
    with aioresponses() as m:
        m.post(MAKE_CALL, status=409, payload=error_body("idempotency_conflict"), repeat=True)
        with pytest.raises(ConflictError) as info:
            await mocked_client.make_call(**CALL_ARGS)
        assert len(sent(m)) == 1
    assert info.value.error_type == "idempotency_conflict"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_status_maps_to_error_class(
    mocked_client: AsyncVoiceClient, status: int, cls: type[APIStatusError]
) -> None:
    with aioresponses() as m:
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=status,
            repeat=True,
            payload=error_body("some_type", "went wrong", "limit"),
            headers={"x-request-id": "req_7"},
        )
        with pytest.raises(cls) as info:
            await mocked_client.sessions.get("vs_1")
    err = info.value
    assert type(err) is cls
    assert (err.status, err.request_id, err.error_type, err.param) == (
        status,
        "req_7",
        "some_type",
        "limit",
    )
    assert "went wrong" in str(err) and "req_7" in str(err)


@pytest.mark.parametrize(
    ("body", "content_type", "excerpt"),
    [
        ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", "502 Bad Gateway"),
        ("", "text/plain", ""),
        ('{"error": {"type": "serv', "application/json", '{"error": {"type": "serv'),
        ('["not", "an", "error"]', "application/json", '["not"'),
    ],
)
async def test_non_contract_error_bodies_still_typed(
    mocked_client: AsyncVoiceClient, body: str, content_type: str, excerpt: str
) -> None:
    with aioresponses() as m:
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=502,
            body=body,
            repeat=True,
            content_type=content_type,
            headers={"x-request-id": "req_9"},
        )
        with pytest.raises(InternalServerError) as info:
            await mocked_client.sessions.get("vs_1")
    assert info.value.status == 502 and info.value.request_id == "req_9"
    assert info.value.error_type is None
    assert excerpt in info.value.body_excerpt


async def test_truncated_json_on_success_is_retried_then_typed(
    mocked_client: AsyncVoiceClient,
) -> None:
    with aioresponses() as m:
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=200,
            body='{"id": "vs_',
            repeat=True,
            content_type="application/json",
        )
        with pytest.raises(APIResponseValidationError) as info:
            await mocked_client.sessions.get("vs_1")
    assert len(sent(m)) == 3
    assert info.value.status == 200 and '{"id": "vs_' in info.value.body_excerpt


async def test_wrong_json_types_give_validation_error(mocked_client: AsyncVoiceClient) -> None:
    with aioresponses() as m:
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=200,
            payload={"id": 5, "status": "completed"},
        )
        with pytest.raises(APIResponseValidationError):
            await mocked_client.sessions.get("vs_1")


async def test_connection_errors_are_retried_then_raised(
    mocked_client: AsyncVoiceClient,
) -> None:
    import aiohttp

    with aioresponses() as m:
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"), exception=aiohttp.ClientOSError(), repeat=True
        )
        with pytest.raises(APIConnectionError):
            await mocked_client.sessions.get("vs_1")
    assert len(sent(m)) == 3


async def test_admin_key_only_on_admin_routes(mocked_client: AsyncVoiceClient) -> None:
    config = {"tenant_id": "tn_1", "version": 2, "model": "gpt-realtime"}
    with aioresponses() as m:
        m.get(re.compile(r".*/runtime-config$"), status=200, payload=config)
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=200,
            payload={**CALL_BODY, "id": "vs_1", "direction": "outbound"},
        )
        await mocked_client.admin.get_runtime_config("tn_1")
        await mocked_client.sessions.get("vs_1")
    admin_headers, tenant_headers = (c.kwargs["headers"] for c in sent(m))
    assert admin_headers["x-admin-key"] == ADMIN_KEY and "Authorization" not in admin_headers
    assert tenant_headers["Authorization"] == f"Bearer {API_KEY}"
    assert "x-admin-key" not in tenant_headers


async def test_user_agent(mocked_client: AsyncVoiceClient) -> None:
    with aioresponses() as m:
        m.post(MAKE_CALL, status=201, payload=CALL_BODY)
        await mocked_client.make_call(**CALL_ARGS)
    ua = sent(m)[0].kwargs["headers"]["User-Agent"]
    assert re.fullmatch(
        rf"voice-async/{re.escape(voice_async.__version__)} python/\d+\.\d+\.\d+\S* aiohttp/\S+", ua
    )


async def test_if_match_header_and_body(mocked_client: AsyncVoiceClient) -> None:
    config = {"tenant_id": "tn_1", "version": 5, "voice": "alloy"}
    with aioresponses() as m:
        m.put(re.compile(r".*/runtime-config$"), status=200, payload=config)
        result = await mocked_client.admin.update_runtime_config("tn_1", voice="alloy", if_match=4)
    call = sent(m)[0]
    assert call.kwargs["headers"]["If-Match"] == "4"
    assert call.kwargs["data"] == b'{"voice":"alloy"}'
    assert result.version == 5


async def test_deadline_bounds_all_attempts() -> None:
    """Real (short) sleeps: the retry that would cross the deadline is not made."""
    async with AsyncVoiceClient(
        api_key=API_KEY, base_url=BASE, deadline=0.5, max_retries=10
    ) as client:
        with aioresponses() as m:
            m.get(
                re.compile(r".*/voice-sessions/vs_1$"),
                status=503,
                repeat=True,
                headers={"Retry-After": "0.2"},
            )
            started = time.monotonic()
            with pytest.raises(InternalServerError):
                await client.sessions.get("vs_1")
            elapsed = time.monotonic() - started
    assert len(sent(m)) == 3  # t=0, 0.2, 0.4; a 4th at 0.6 would cross 0.5
    assert elapsed < 0.5


async def test_debug_log_line_per_request_is_redacted(
    mocked_client: AsyncVoiceClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="voice_async")
    with aioresponses() as m:
        m.post(
            MAKE_CALL,
            status=500,
            payload=error_body("server_error", f"echo {API_KEY}"),
            headers={"x-request-id": "req_1"},
        )
        m.post(MAKE_CALL, status=201, payload=CALL_BODY, headers={"x-request-id": "req_2"})
        await mocked_client.make_call(**CALL_ARGS)
        m.get(
            re.compile(r".*/runtime-config$"),
            status=401,
            payload=error_body("authentication_error", f"bad key {ADMIN_KEY}"),
        )
        with pytest.raises(AuthenticationError) as info:
            await mocked_client.admin.get_runtime_config("tn_1")
    lines = [r.getMessage() for r in caplog.records]
    request_lines = [line for line in lines if "attempt" in line and "->" in line]
    assert any(
        "POST /api/v1/make-call -> 500" in line and "req_1" in line for line in request_lines
    )
    assert any(
        "POST /api/v1/make-call -> 201" in line and "attempt 2" in line for line in request_lines
    )
    everything = "\n".join(lines) + str(info.value) + repr(info.value) + info.value.body_excerpt
    assert API_KEY not in everything and ADMIN_KEY not in everything


# -- the error hierarchy (issue 15.6) ------------------------------------------------


def test_api_error_covers_what_came_from_the_server_and_nothing_else() -> None:
    from_server = [
        voice_async.APIStatusError,
        voice_async.RateLimitError,
        voice_async.APIConnectionError,
        voice_async.APITimeoutError,
        voice_async.APIResponseValidationError,
        voice_async.ResponseTooLargeError,
        voice_async.EventStreamError,
        voice_async.EventGapError,
        voice_async.StreamUnauthorizedError,
        voice_async.SessionNotFoundError,
    ]
    programming = [
        voice_async.InvalidRequestError,
        voice_async.ConfigurationError,
        voice_async.MissingCredentialsError,
        voice_async.ClientClosedError,
    ]
    for cls in from_server:
        assert issubclass(cls, voice_async.APIError), cls
    for cls in programming:
        assert issubclass(cls, voice_async.VoiceError)
        assert not issubclass(cls, voice_async.APIError), cls


def test_stream_errors_can_also_be_their_http_peers() -> None:
    """``EventStreamError`` and the status errors cooperate: one class can be both."""

    class Unauthorized(voice_async.EventStreamError, AuthenticationError):
        pass

    class Missing(voice_async.EventStreamError, NotFoundError):
        pass

    for cls, status, code in ((Unauthorized, 401, 4001), (Missing, 404, 4004)):
        error = cls("stream refused", close_code=code, status=status, request_id="req_1")
        assert isinstance(error, APIStatusError) and isinstance(error, voice_async.APIError)
        assert (error.status, error.close_code, error.request_id) == (status, code, "req_1")
        assert str(error) == "stream refused" and len(error.headers) == 0
    with pytest.raises(AuthenticationError):
        raise Unauthorized("x", close_code=4001, status=401)


async def test_status_error_keeps_repeated_headers(mocked_client: AsyncVoiceClient) -> None:
    with aioresponses() as m:
        m.get(
            re.compile(r".*/voice-sessions/vs_1$"),
            status=404,
            payload=error_body("not_found"),
            headers={"x-request-id": "req_9", "Link": "<a>; rel=x"},
        )
        with pytest.raises(NotFoundError) as info:
            await mocked_client.sessions.get("vs_1")
    headers = info.value.headers
    assert headers["X-REQUEST-ID"] == "req_9" and headers.getall("link") == ["<a>; rel=x"]
    with pytest.raises(TypeError):
        headers["x-new"] = "read-only"  # type: ignore[index]
