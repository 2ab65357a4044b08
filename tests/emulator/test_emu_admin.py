"""GET/PUT /api/v1/admin/tenants/{tenant_id}/runtime-config."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from voice_async.testing import Emulator

from .emu_helpers import ISO_SECONDS, Reply, admin, auth, request


def config_url(emu: Emulator, tenant_id: str | None = None) -> str:
    return f"{emu.base_url}/api/v1/admin/tenants/{tenant_id or emu.tenant_id}/runtime-config"


async def put(
    http: aiohttp.ClientSession,
    emu: Emulator,
    body: Any,
    headers: dict[str, str] | None = None,
    tenant_id: str | None = None,
) -> Reply:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"content-type": "application/json", **(admin(emu) if headers is None else headers)}
    return await request(http, "PUT", config_url(emu, tenant_id), data=data, headers=sent)


async def test_default_config(emu: Emulator, http: aiohttp.ClientSession) -> None:
    reply = await request(http, "GET", config_url(emu), headers=admin(emu))
    assert reply.status == 200
    config = reply.json()
    assert set(config) == {
        "tenant_id",
        "model",
        "voice",
        "system_prompt_key",
        "temperature",
        "max_call_seconds",
        "version",
        "updated_at",
    }
    assert (config["tenant_id"], config["version"]) == (emu.tenant_id, 1)
    assert ISO_SECONDS.fullmatch(config["updated_at"])
    assert reply.headers["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("headers", "status", "type_"),
    [
        ({}, 401, "authentication_error"),
        ({"x-admin-key": "nope"}, 401, "authentication_error"),
        ("bearer", 403, "permission_error"),
        ({"Authorization": "Bearer sk_anything"}, 403, "permission_error"),
        ("bearer+wrong-admin", 401, "authentication_error"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_admin_auth(
    emu: Emulator,
    http: aiohttp.ClientSession,
    headers: Any,
    status: int,
    type_: str,
    method: str,
) -> None:
    if headers == "bearer":
        headers = auth(emu)
    elif headers == "bearer+wrong-admin":
        headers = {**auth(emu), "x-admin-key": "nope"}
    reply = await request(http, method, config_url(emu), headers=headers, json={"voice": "x"})
    assert reply.status == status
    assert reply.error()["type"] == type_


async def test_unknown_tenant_is_404_until_added(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    reply = await request(http, "GET", config_url(emu, "tn_other"), headers=admin(emu))
    assert reply.status == 404
    assert reply.error()["type"] == "not_found"
    assert (await put(http, emu, {"voice": "x"}, tenant_id="tn_other")).status == 404
    emu.add_tenant("tn_other")
    reply = await request(http, "GET", config_url(emu, "tn_other"), headers=admin(emu))
    assert reply.json()["tenant_id"] == "tn_other"


async def test_put_updates_and_bumps_the_version(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    reply = await put(http, emu, {"voice": "verse", "temperature": 1, "max_call_seconds": 600})
    assert reply.status == 200
    config = reply.json()
    assert (config["voice"], config["temperature"], config["max_call_seconds"]) == (
        "verse",
        1.0,
        600,
    )
    assert config["model"] == "gpt-realtime"
    assert config["version"] == 2
    assert reply.headers["ETag"] == '"2"'
    again = await request(http, "GET", config_url(emu), headers=admin(emu))
    assert again.json() == config


@pytest.mark.parametrize("form", ["{v}", '"{v}"', 'W/"{v}"', " {v} "])
async def test_if_match_forms(emu: Emulator, http: aiohttp.ClientSession, form: str) -> None:
    for version in (1, 2):
        headers = {**admin(emu), "If-Match": form.format(v=version)}
        reply = await put(http, emu, {"model": f"m{version}"}, headers)
        assert reply.status == 200, reply.text
        assert reply.json()["version"] == version + 1


async def test_stale_if_match_is_409_version_conflict(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    assert (await put(http, emu, {"voice": "a"})).status == 200
    reply = await put(http, emu, {"voice": "b"}, {**admin(emu), "If-Match": "1"})
    assert reply.status == 409
    assert reply.error()["type"] == "version_conflict"
    assert reply.error()["param"] == "If-Match"
    current = await request(http, "GET", config_url(emu), headers=admin(emu))
    assert (current.json()["voice"], current.json()["version"]) == ("a", 2)
    assert (await put(http, emu, {"voice": "c"}, {**admin(emu), "If-Match": "*"})).status == 200


async def test_racing_writers_one_wins(emu: Emulator, http: aiohttp.ClientSession) -> None:
    headers = {**admin(emu), "If-Match": '"1"'}
    replies = await asyncio.gather(
        put(http, emu, {"voice": "a"}, headers), put(http, emu, {"voice": "b"}, headers)
    )
    assert sorted(r.status for r in replies) == [200, 409]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, None),
        ([], None),
        (b"{oops", None),
        ({"colour": "red"}, "colour"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"max_call_seconds": 0}, "max_call_seconds"),
        ({"max_call_seconds": 14401}, "max_call_seconds"),
        ({"max_call_seconds": 60.5}, "max_call_seconds"),
        ({"model": 5}, "model"),
        ({"voice": None}, "voice"),
        ({"system_prompt_key": ""}, "system_prompt_key"),
    ],
)
async def test_invalid_config_is_400(
    emu: Emulator, http: aiohttp.ClientSession, body: Any, param: str | None
) -> None:
    reply = await put(http, emu, body)
    assert reply.status == 400
    assert reply.error()["type"] == "invalid_request"
    assert reply.error()["param"] == param
    current = await request(http, "GET", config_url(emu), headers=admin(emu))
    assert current.json()["version"] == 1


async def test_bad_if_match_is_400(emu: Emulator, http: aiohttp.ClientSession) -> None:
    reply = await put(http, emu, {"voice": "x"}, {**admin(emu), "If-Match": "v-one"})
    assert reply.status == 400
    assert reply.error()["param"] == "If-Match"


@pytest.mark.parametrize(("value", "status"), [(0, 200), (2, 200), (1, 200), (14400, 200)])
async def test_boundaries_accepted(
    emu: Emulator, http: aiohttp.ClientSession, value: int, status: int
) -> None:
    field = "temperature" if value <= 2 else "max_call_seconds"
    assert (await put(http, emu, {field: value})).status == status
