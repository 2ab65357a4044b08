"""Configuration: env fallbacks, http refusal, lazy credential errors, redaction."""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

from voice_async import (
    AsyncVoiceClient,
    ConfigurationError,
    MissingCredentialsError,
    Timeout,
)
from voice_async._config import Secret, mask

from .conftest import ADMIN_KEY, API_KEY


def test_env_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATESET_VOICE_API_KEY", API_KEY)
    monkeypatch.setenv("STATESET_ADMIN_API_KEY", ADMIN_KEY)
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", "http://localhost:8787/")
    client = AsyncVoiceClient()
    assert client.base_url == "http://localhost:8787"
    assert client.config.api_key is not None and client.config.api_key.reveal() == API_KEY
    assert client.config.admin_key is not None and client.config.admin_key.reveal() == ADMIN_KEY


def test_arguments_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATESET_VOICE_API_KEY", "sk_from_env_xxxxxxxx")
    monkeypatch.setenv("STATESET_VOICE_BASE_URL", "http://localhost:1")
    client = AsyncVoiceClient(api_key=API_KEY, base_url="https://staging.example.com")
    assert client.config.api_key is not None and client.config.api_key.reveal() == API_KEY
    assert client.base_url == "https://staging.example.com"


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATESET_VOICE_BASE_URL", raising=False)
    assert AsyncVoiceClient().base_url == "https://voice.stateset.app"


@pytest.mark.parametrize(
    "url", ["http://voice.stateset.app", "http://10.0.0.5:8080", "http://example.com/api"]
)
def test_plain_http_to_remote_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="refusing plain http"):
        AsyncVoiceClient(api_key=API_KEY, base_url=url)
    assert AsyncVoiceClient(api_key=API_KEY, base_url=url, allow_insecure_http=True)


@pytest.mark.parametrize(
    "url", ["http://localhost:8787", "http://127.0.0.1:1", "http://127.5.6.7", "http://[::1]:80"]
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    AsyncVoiceClient(api_key=API_KEY, base_url=url)


@pytest.mark.parametrize("url", ["ftp://x.example", "not a url", "https://", "https://h/?q=1"])
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        AsyncVoiceClient(api_key=API_KEY, base_url=url)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"timeout": 0},
        {"timeout": "5"},
        {"deadline": 0},
        {"deadline": float("nan")},
        {"max_connections": 0},
        {"max_connections": 1.5},
        {"max_response_bytes": 0},
        {"max_response_bytes": "10"},
    ],
)
def test_bad_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        AsyncVoiceClient(api_key=API_KEY, **kwargs)  # type: ignore[arg-type]


def test_timeout_forms() -> None:
    assert AsyncVoiceClient(timeout=5).config.timeout == Timeout(total=5.0, connect=5.0)
    custom = Timeout(total=None, connect=2)
    assert AsyncVoiceClient(timeout=custom).config.timeout is custom


async def test_missing_key_fails_only_when_needed_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STATESET_VOICE_API_KEY", raising=False)
    monkeypatch.delenv("STATESET_ADMIN_API_KEY", raising=False)
    async with AsyncVoiceClient(base_url="http://127.0.0.1:9") as client:  # constructing is fine
        with aioresponses() as m:
            with pytest.raises(MissingCredentialsError, match="STATESET_VOICE_API_KEY"):
                await client.sessions.get("vs_1")
            with pytest.raises(MissingCredentialsError, match="STATESET_ADMIN_API_KEY"):
                await client.admin.get_runtime_config("tn_1")
        assert not m.requests


async def test_bearer_key_never_used_for_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATESET_ADMIN_API_KEY", raising=False)
    async with AsyncVoiceClient(api_key=API_KEY, base_url="http://127.0.0.1:9") as client:
        with aioresponses() as m, pytest.raises(MissingCredentialsError):
            await client.admin.get_runtime_config("tn_1")
        assert not m.requests


def test_repr_and_str_never_show_keys() -> None:
    client = AsyncVoiceClient(api_key=API_KEY, admin_key=ADMIN_KEY, base_url="http://localhost:1")
    for text in (repr(client), str(client), repr(client.config), str(client.config)):
        assert API_KEY not in text and ADMIN_KEY not in text
    assert "****cdef" in repr(client) and "****3210" in repr(client)


def test_secret_masking() -> None:
    assert mask("short") == "****"
    assert mask("sk_live_abcdefgh1234") == "****1234"
    secret = Secret("sk_live_abcdefgh1234")
    assert "abcdefgh" not in f"{secret} {secret!r}"
    assert secret.reveal() == "sk_live_abcdefgh1234"
