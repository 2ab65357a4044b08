"""``with_raw_response``: the HTTP answer beside the typed model, against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from multidict import CIMultiDict

from voice_async import AsyncVoiceClient, Call, RawResponse, Runtime, RuntimeConfig
from voice_async.testing import Emulator

CALL = {"to": "+15555555678", "from_": "+15555551234", "agent_key": "support_primary"}


async def _no_wait(delay: float) -> None:
    return None


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncVoiceClient]:
    async with AsyncVoiceClient(
        api_key=emu.api_key,
        admin_key=emu.admin_key,
        base_url=emu.base_url,
        runtime=Runtime(sleep=_no_wait),
    ) as c:
        yield c


async def test_make_call_raw_has_status_headers_request_id_and_parses(
    client: AsyncVoiceClient, emu: Emulator
) -> None:
    raw = await client.with_raw_response.make_call(**CALL, idempotency_key="order-1")
    assert isinstance(raw, RawResponse)
    assert raw.status in (200, 201)
    assert raw.request_id and raw.request_id == raw.headers["X-Request-Id"]
    assert raw.retries_taken == 0 and 0 < raw.elapsed < 30
    assert "Idempotent-Replayed" not in raw.headers
    call = raw.parse()
    assert isinstance(call, Call) and emu.session(call.session_id) is not None
    # The same key again: the server replays, and says so in a header the
    # plain method cannot show.
    again = await client.calls.with_raw_response.create(**CALL, idempotency_key="order-1")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.parse() == call and again.request_id != raw.request_id
    assert emu.stats.calls_placed == 1


async def test_raw_reports_retries_taken(client: AsyncVoiceClient, emu: Emulator) -> None:
    emu.faults.script("503", "reset", route="make_call")
    raw = await client.with_raw_response.make_call(**CALL)
    assert raw.retries_taken == 2 and emu.stats.requests["make_call"] == 3
    assert raw.parse().session_id


async def test_admin_raw_shows_the_etag(client: AsyncVoiceClient, emu: Emulator) -> None:
    raw = await client.admin.with_raw_response.get_runtime_config(emu.tenant_id)
    config = raw.parse()
    assert isinstance(config, RuntimeConfig)
    assert raw.headers["etag"] == f'"{config.version}"'
    updated = await client.admin.with_raw_response.update_runtime_config(
        emu.tenant_id, voice="nova", if_match=config.version
    )
    assert updated.parse().version == config.version + 1
    assert updated.headers["ETag"] == f'"{config.version + 1}"'
    # The plain method returns the same model, nothing else.
    assert await client.admin.get_runtime_config(emu.tenant_id) == updated.parse()


async def test_parse_errors_are_raised_by_parse_not_by_the_call(emu: Emulator) -> None:
    """A body that does not fit the model: the raw response is still there to inspect."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"unexpected": True}, status=201)

    async with (
        _serve(handler) as base_url,
        AsyncVoiceClient(api_key="sk_test_raw_0123456789", base_url=base_url) as c,
    ):
        raw = await c.with_raw_response.make_call(**CALL)
        assert raw.status == 201 and b"unexpected" in raw.content
        from voice_async import APIResponseValidationError

        with pytest.raises(APIResponseValidationError):
            raw.parse()


async def test_repeated_headers_are_kept_and_secrets_masked() -> None:
    key = "sk_test_secret_0123456789abcdef"
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Authorization"])
        headers = CIMultiDict(
            [
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
                ("X-Echo", f"Bearer {key}"),
                ("x-request-id", "req_raw_1"),
            ]
        )
        return web.json_response(
            {
                "session_id": "vs_1",
                "status": "queued",
                "to": CALL["to"],
                "from": CALL["from_"],
                "agent_key": CALL["agent_key"],
                "created_at": "2026-01-01T00:00:00Z",
            },
            status=201,
            headers=headers,
        )

    async with _serve(handler) as base_url, AsyncVoiceClient(api_key=key, base_url=base_url) as c:
        raw = await c.with_raw_response.make_call(**CALL)
    assert seen == [f"Bearer {key}"]
    assert raw.headers.getall("set-cookie") == ["a=1", "b=2"]
    assert key not in raw.headers["x-echo"] and "****" in raw.headers["x-echo"]
    assert key not in repr(raw)
    assert raw.request_id == "req_raw_1"
    assert raw.parse().session_id == "vs_1"


async def test_raw_validates_before_sending(client: AsyncVoiceClient, emu: Emulator) -> None:
    from voice_async import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        await client.with_raw_response.make_call(**{**CALL, "to": "not a number"})
    assert emu.stats.requests.get("make_call", 0) == 0


class _serve:
    """A one-route aiohttp server on loopback for ``POST /api/v1/make-call``."""

    def __init__(self, handler: web.RequestHandler) -> None:  # type: ignore[type-arg]
        self._app = web.Application()
        self._app.router.add_post("/api/v1/make-call", handler)
        self._runner = web.AppRunner(self._app)

    async def __aenter__(self) -> str:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


def test_public_signatures_name_only_exported_types() -> None:
    """Every class in a signature of the client, calls, admin, raw and hook types is exported."""
    import sys
    import typing

    import voice_async
    from voice_async._config import Unset
    from voice_async.resources import AdminResource, CallsResource

    exported = {n: getattr(voice_async, n) for n in voice_async.__all__}
    seen: set[type] = set()

    def classes(hint: object) -> None:
        if isinstance(hint, type):
            seen.add(hint)
        for arg in typing.get_args(hint):
            classes(arg)

    client_class = voice_async.AsyncVoiceClient
    owners = (
        client_class,
        CallsResource,
        AdminResource,
        voice_async.RawResponse,
        voice_async.RequestInfo,
        voice_async.ResponseInfo,
        voice_async.RetryInfo,
        voice_async.StreamConnectInfo,
        voice_async.StreamReconnectInfo,
        voice_async.StreamGiveUpInfo,
    )
    for owner in owners:
        for name, member in vars(owner).items():
            function = member.fget if isinstance(member, property) else member
            public = not name.startswith("_") or (owner, name) == (client_class, "__init__")
            if callable(function) and public:
                namespace = {**vars(sys.modules[function.__module__]), **exported}
                hints = typing.get_type_hints(function, namespace)
                hints.pop("owner", None)  # ``make_call = create_call``: the bound self
                for hint in hints.values():
                    classes(hint)
    ours = {c for c in seen if c.__module__.startswith("voice_async")}
    assert {"ClientWithRawResponse", "CallsWithRawResponse", "AdminWithRawResponse", "Call"} <= {
        c.__name__ for c in ours
    }
    # ``Unset``: the sentinel type of ``with_options(deadline=UNSET)``, never passed by users.
    for cls in ours - {Unset}:
        assert getattr(voice_async, cls.__name__) is cls, cls
