"""Fault injection as a raw aiohttp client observes it."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from voice_async.testing import Emulator, FaultKind, FaultPlan

from .emu_helpers import REQUEST_ID, Reply, admin, auth, place_call, request, wait_until

CONNECTION_ERRORS = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


async def list_once(http: aiohttp.ClientSession, emu: Emulator, **kwargs: object) -> Reply:
    return await request(
        http, "GET", f"{emu.base_url}/api/v1/voice-sessions?limit=2", headers=auth(emu), **kwargs
    )


async def outcome(http: aiohttp.ClientSession, emu: Emulator) -> str:
    try:
        return str((await list_once(http, emu)).status)
    except CONNECTION_ERRORS:
        return "reset"


@pytest.mark.parametrize(
    ("kind", "status", "error_type"),
    [("500", 500, "server_error"), ("503", 503, "server_error"), ("429", 429, "rate_limited")],
)
async def test_json_error_faults(
    emu: Emulator, http: aiohttp.ClientSession, kind: str, status: int, error_type: str
) -> None:
    emu.faults.script(kind)
    reply = await list_once(http, emu)
    assert reply.status == status
    assert reply.error()["type"] == error_type
    assert REQUEST_ID.fullmatch(reply.headers["x-request-id"])
    if kind == "429":
        assert reply.headers["Retry-After"] == "0"
    assert (await list_once(http, emu)).status == 200  # then normal again
    assert emu.stats.faults_injected[kind] == 1


async def test_retry_after_is_configurable(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.retry_after = 3
    emu.faults.script(FaultKind.RATE_LIMITED)
    assert (await list_once(http, emu)).headers["Retry-After"] == "3"


async def test_502_html(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("502_html")
    reply = await list_once(http, emu)
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in reply.text
    assert REQUEST_ID.fullmatch(reply.headers["x-request-id"])


async def test_empty_500(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("empty_500")
    reply = await list_once(http, emu)
    assert (reply.status, reply.body) == (500, b"")
    assert REQUEST_ID.fullmatch(reply.headers["x-request-id"])


async def test_truncated_json(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("truncated_json")
    reply = await list_once(http, emu)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert REQUEST_ID.fullmatch(reply.headers["x-request-id"])
    with pytest.raises(json.JSONDecodeError):
        reply.json()


async def test_reset_drops_the_connection(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("reset", route="make_call")
    with pytest.raises(CONNECTION_ERRORS):
        await place_call(http, emu)
    assert emu.stats.calls_placed == 0
    assert (await place_call(http, emu)).status == 201


async def test_aiohttp_silently_retries_one_reset_on_a_get(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    # aiohttp re-sends an idempotent request once after a disconnect: one scripted
    # reset is invisible to an aiohttp client on GET, two are not.
    emu.faults.script("reset")
    assert (await list_once(http, emu)).status == 200
    assert emu.stats.requests["list_sessions"] == 2
    emu.faults.script("reset", "reset")
    with pytest.raises(CONNECTION_ERRORS):
        await list_once(http, emu)
    assert emu.stats.faults_injected["reset"] == 3


async def test_hang_times_the_client_out(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("hang")
    started = time.perf_counter()
    with pytest.raises(asyncio.TimeoutError):
        await list_once(http, emu, timeout=aiohttp.ClientTimeout(total=0.2))
    assert time.perf_counter() - started < 1.0
    assert (await list_once(http, emu)).status == 200


async def test_a_short_hang_ends_in_a_reset(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.hang_seconds = 0.05
    emu.faults.script("hang", route="make_call")
    with pytest.raises(CONNECTION_ERRORS):
        await place_call(http, emu)


async def test_close_ends_a_hang(http: aiohttp.ClientSession) -> None:
    emu = await Emulator().start()
    emu.faults.script("hang")
    pending = asyncio.ensure_future(list_once(http, emu))
    await wait_until(lambda: emu.stats.requests["list_sessions"] >= 1)
    started = time.perf_counter()
    await emu.close()
    with pytest.raises(CONNECTION_ERRORS):
        await pending
    assert time.perf_counter() - started < 1.5


async def test_script_order_and_route(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("503", "429", route="make_call")
    assert emu.faults.pending == 2
    assert (await list_once(http, emu)).status == 200
    statuses = [(await place_call(http, emu)).status for _ in range(3)]
    assert statuses == [503, 429, 201]
    assert emu.faults.pending == 0
    assert emu.stats.requests["make_call"] == 3
    assert emu.stats.calls_placed == 1


async def test_fail_rate_is_deterministic(http: aiohttp.ClientSession) -> None:
    runs = []
    for _ in range(2):
        async with Emulator() as emu:
            emu.faults.fail_rate(0.5, seed=3)
            runs.append([await outcome(http, emu) for _ in range(30)])
            emu.faults.fail_rate(0)
            assert (await list_once(http, emu)).status == 200
    assert runs[0] == runs[1]
    assert 5 < runs[0].count("200") < 25
    assert set(runs[0]) - {"200"} <= {"500", "502", "503", "429", "reset"}


async def test_fail_rate_per_route(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.fail_rate(1.0, kinds=["503"], route="get_session")
    assert (await list_once(http, emu)).status == 200
    session_id = emu.insert_sessions(1)[0]
    url = f"{emu.base_url}/api/v1/voice-sessions/{session_id}"
    assert (await request(http, "GET", url, headers=auth(emu))).status == 503


async def test_latency(emu: Emulator, http: aiohttp.ClientSession) -> None:
    # A latency far above any scheduling delay of a loaded machine: the
    # spared route must finish well inside it, the delayed one after it.
    emu.faults.latency(2.0, route="list_sessions")
    started = time.perf_counter()
    assert (await list_once(http, emu)).status == 200
    assert time.perf_counter() - started >= 2.0
    started = time.perf_counter()
    await request(http, "GET", f"{emu.base_url}/api/v1/voice-sessions/vs_x", headers=auth(emu))
    assert time.perf_counter() - started < 1.0


async def test_global_latency_spares_healthz(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.latency(2.0)  # far above a loaded machine's scheduling delays
    started = time.perf_counter()
    await request(http, "GET", f"{emu.base_url}/healthz")
    assert time.perf_counter() - started < 1.0
    started = time.perf_counter()
    await request(http, "GET", f"{emu.base_url}/api/v1/admin/tenants/x/runtime-config")
    assert time.perf_counter() - started >= 2.0


async def test_healthz_is_never_faulted(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("500")
    emu.faults.fail_rate(1.0)
    reply = await request(http, "GET", f"{emu.base_url}/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})
    assert emu.faults.pending == 1


async def test_reset_after_the_call_was_placed_then_retry_replays(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.faults.script("reset", route="make_call", when="after")
    with pytest.raises(CONNECTION_ERRORS):
        await place_call(http, emu, key="retry-1")
    assert emu.stats.calls_placed == 1
    retry = await place_call(http, emu, key="retry-1")
    assert retry.status == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert emu.stats.calls_placed == 1
    assert emu.session(retry.json()["session_id"]) is not None


async def test_fault_before_the_call_releases_the_key(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.faults.script("503", route="make_call")
    assert (await place_call(http, emu, key="retry-2")).status == 503
    assert emu.stats.calls_placed == 0
    retry = await place_call(http, emu, key="retry-2")
    assert retry.status == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert emu.stats.calls_placed == 1


async def test_a_hung_call_that_the_client_abandons_places_nothing(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.faults.script("hang", route="make_call")
    with pytest.raises(asyncio.TimeoutError):
        async with http.post(
            f"{emu.base_url}/api/v1/make-call",
            json={"to": "+15555555678", "from": "+15555551234", "agent_key": "a"},
            headers={**auth(emu), "Idempotency-Key": "retry-3"},
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass
    deadline = time.perf_counter() + 2
    while True:  # the server notices the disconnect asynchronously
        reply = await place_call(
            http,
            emu,
            {"to": "+15555555678", "from": "+15555551234", "agent_key": "a"},
            key="retry-3",
        )
        if reply.status != 409 or time.perf_counter() > deadline:
            break
        assert reply.error()["type"] == "idempotency_in_progress"
        await asyncio.sleep(0.02)
    assert reply.status == 201
    assert emu.stats.calls_placed == 1


async def test_after_faults_keep_side_effects(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.faults.script("500", route="put_runtime_config", when="after")
    url = f"{emu.base_url}/api/v1/admin/tenants/{emu.tenant_id}/runtime-config"
    reply = await request(http, "PUT", url, json={"voice": "x"}, headers=admin(emu))
    assert reply.status == 500
    current = await request(http, "GET", url, headers=admin(emu))
    assert (current.json()["voice"], current.json()["version"]) == ("x", 2)


async def test_faults_apply_before_auth_on_plain_routes(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.faults.script("503")
    reply = await request(http, "GET", f"{emu.base_url}/api/v1/voice-sessions")
    assert reply.status == 503  # a proxy in front answers before the app checks the key


async def test_constructor_plan_and_clear(http: aiohttp.ClientSession) -> None:
    plan = FaultPlan(retry_after=2)
    plan.script("429")
    plan.latency(0.01)
    plan.ws_drop_every(3)
    plan.head_insert_on_page(1)
    async with Emulator(faults=plan) as emu:
        assert emu.faults is plan
        reply = await list_once(http, emu)
        assert (reply.status, reply.headers["Retry-After"]) == (429, "2")
        emu.faults.script("500")
        emu.faults.fail_rate(1.0)
        emu.faults.clear()
        assert (emu.faults.pending, emu.faults.ws_drop, emu.faults.head_insert) == (0, None, 0)
        assert (await list_once(http, emu)).status == 200
        assert emu.faults.retry_after == 2


def test_plan_rejects_mistakes() -> None:
    plan = FaultPlan()
    with pytest.raises(ValueError, match="unknown fault kind"):
        plan.script("404")
    with pytest.raises(ValueError, match="unknown route"):
        plan.script("500", route="list")
    with pytest.raises(ValueError, match="healthz"):
        plan.latency(1, route="healthz")
    with pytest.raises(ValueError, match="when"):
        plan.script("500", when="during")
    with pytest.raises(ValueError, match="rate"):
        plan.fail_rate(1.5)
    with pytest.raises(ValueError, match="kinds"):
        plan.fail_rate(0.5, kinds=[])
    with pytest.raises(ValueError, match="mode"):
        plan.ws_drop_every(2, mode="1000")
    with pytest.raises(ValueError):
        plan.latency(-1)
    with pytest.raises(ValueError):
        plan.head_insert_on_page(-1)
    assert plan.pending == 0
