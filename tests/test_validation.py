"""Bad input is rejected with a typed error naming the field, before any request."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import aioresponses

from voice_async import AsyncVoiceClient, ConfigurationError, InvalidRequestError, Timeout

GOOD: dict[str, Any] = {
    "to": "+15555555678",
    "from_": "+15555551234",
    "agent_key": "support_primary",
}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"to": "5555555678"}, "to"),
        ({"to": "+0555555678"}, "to"),
        ({"to": "+1555"}, "to"),
        ({"to": "+1234567890123456"}, "to"),
        ({"to": "+1 555 555 5678"}, "to"),
        ({"to": 15555555678}, "to"),
        ({"from_": "+1555555123x"}, "from_"),
        ({"from_": ""}, "from_"),
        ({"agent_key": ""}, "agent_key"),
        ({"agent_key": "a" * 129}, "agent_key"),
        ({"agent_key": "bad key!"}, "agent_key"),
        ({"metadata": {"blob": "x" * 17000}}, "metadata"),
        ({"metadata": {1: "int key"}}, "metadata"),
        ({"metadata": ["not", "a", "mapping"]}, "metadata"),
        ({"metadata": {"f": float("nan")}}, "metadata"),
        ({"metadata": {"o": object()}}, "metadata"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 256}, "idempotency_key"),
        ({"idempotency_key": "has space"}, "idempotency_key"),
    ],
)
async def test_make_call_rejects_bad_input_without_sending(
    mocked_client: AsyncVoiceClient, override: dict[str, Any], field: str
) -> None:
    with aioresponses() as m:
        with pytest.raises(InvalidRequestError) as info:
            await mocked_client.make_call(**{**GOOD, **override})
        assert not m.requests
    assert info.value.field == field and str(info.value).startswith(field)
    assert isinstance(info.value, ValueError)


async def test_metadata_at_the_limit_is_accepted(mocked_client: AsyncVoiceClient) -> None:
    from voice_async._validate import metadata

    value = {"blob": "x" * (16 * 1024 - len('{"blob":""}'))}
    assert metadata(value) == value


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 1.5}, "offset"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"agent_key": "no spaces please"}, "agent_key"),
    ],
)
async def test_list_rejects_bad_input_without_sending(
    mocked_client: AsyncVoiceClient, kwargs: dict[str, Any], field: str
) -> None:
    with aioresponses() as m:
        with pytest.raises(InvalidRequestError) as info:
            await mocked_client.sessions.list(**kwargs)
        assert not m.requests
    assert info.value.field == field


@pytest.mark.parametrize("session_id", ["", "../admin", "a/b", "x?y=1", " vs_1", 5])
async def test_ids_are_path_safe(mocked_client: AsyncVoiceClient, session_id: Any) -> None:
    with aioresponses() as m:
        with pytest.raises(InvalidRequestError):
            await mocked_client.sessions.get(session_id)
        with pytest.raises(InvalidRequestError):
            await mocked_client.admin.get_runtime_config(session_id)
        assert not m.requests


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"temperature": "hot"},
        {"max_call_seconds": 1.5},
        {"model": ""},
        {"if_match": "4", "model": "m"},
        {"temperature": float("nan")},
        {"temperature": float("inf")},
        {"temperature": True},
    ],
)
async def test_runtime_config_update_rejects_bad_input(
    mocked_client: AsyncVoiceClient, kwargs: dict[str, Any]
) -> None:
    with aioresponses() as m:
        with pytest.raises(InvalidRequestError):
            await mocked_client.admin.update_runtime_config("tn_1", **kwargs)
        assert not m.requests


def test_metadata_size_is_utf8_bytes_as_sent() -> None:
    """16 KiB means the UTF-8 JSON on the wire, not its \\u-escaped form."""
    from voice_async._validate import metadata

    accented = {"note": "é" * 8000}  # 16,000 bytes of UTF-8; 48,000 if escaped
    assert metadata(accented) == accented
    with pytest.raises(InvalidRequestError):
        metadata({"note": "é" * 8200})


BAD_TIMEOUTS: list[Any] = [
    0,
    -1,
    "5",
    True,
    float("nan"),
    float("inf"),
    Timeout(total=-1),
    Timeout(total=5, connect=0),
    Timeout(total=float("nan")),
]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
async def test_a_bad_per_call_timeout_is_a_bad_argument(
    mocked_client: AsyncVoiceClient, timeout: Any
) -> None:
    """The same error type as every other bad argument, on every endpoint, nothing sent."""
    calls = {
        "make_call": lambda: mocked_client.make_call(**GOOD, timeout=timeout),
        "forward_incoming": lambda: mocked_client.calls.forward_incoming({}, timeout=timeout),
        "sessions.get": lambda: mocked_client.sessions.get("vs_1", timeout=timeout),
        "sessions.list": lambda: mocked_client.sessions.list(timeout=timeout),
        "admin.get": lambda: mocked_client.admin.get_runtime_config("tn_1", timeout=timeout),
        "admin.update": lambda: mocked_client.admin.update_runtime_config(
            "tn_1", voice="alloy", timeout=timeout
        ),
    }
    with aioresponses() as m:
        for name, call in calls.items():
            with pytest.raises(InvalidRequestError) as info:
                await call()
            assert not isinstance(info.value, ConfigurationError), name
            assert info.value.field.startswith("timeout"), name
        assert not m.requests


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_a_bad_constructor_timeout_is_a_configuration_error(timeout: Any) -> None:
    """Same check, reported as configuration: the client cannot be built."""
    with pytest.raises(ConfigurationError, match="timeout"):
        AsyncVoiceClient(api_key="sk_test_0123456789abcdef", timeout=timeout)
