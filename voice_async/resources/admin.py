"""Admin: tenant runtime configuration (``x-admin-key`` only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import _validate as check
from .._config import Timeout
from .._errors import InvalidRequestError
from .._models import RuntimeConfig
from .._transport import Transport


def _config_path(tenant_id: str) -> str:
    return f"/api/v1/admin/tenants/{check.path_id('tenant_id', tenant_id)}/runtime-config"


class AdminResource:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def get_runtime_config(
        self,
        tenant_id: str,
        *,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RuntimeConfig:
        """The tenant's stored runtime config, with its ``version``."""
        response = await self._transport.request(
            "GET",
            _config_path(tenant_id),
            auth="admin",
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return self._transport.parse(response, RuntimeConfig)

    async def update_runtime_config(
        self,
        tenant_id: str,
        *,
        model: str | None = None,
        voice: str | None = None,
        system_prompt_key: str | None = None,
        temperature: float | None = None,
        max_call_seconds: int | None = None,
        if_match: int | None = None,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RuntimeConfig:
        """Change some fields of the tenant's runtime config (PUT).

        Pass ``if_match=config.version`` from a previous read to make the
        write conditional: if someone else changed the config since, the
        server answers 409 and this raises :class:`ConflictError` instead of
        silently overwriting their change.
        """
        path = _config_path(tenant_id)
        body: dict[str, Any] = {}
        for name, value in (
            ("model", model),
            ("voice", voice),
            ("system_prompt_key", system_prompt_key),
        ):
            if value is not None:
                body[name] = check.short_text(name, value)
        if temperature is not None:
            body["temperature"] = check.number("temperature", temperature)
        if max_call_seconds is not None:
            body["max_call_seconds"] = check.integer("max_call_seconds", max_call_seconds)
        if not body:
            raise InvalidRequestError("runtime config", "give at least one field to change")
        headers = None
        if if_match is not None:
            headers = {"If-Match": str(check.integer("if_match", if_match))}
        response = await self._transport.request(
            "PUT",
            path,
            auth="admin",
            json_body=body,
            headers=headers,
            extra_headers=extra_headers,
            timeout=timeout,
        )
        return self._transport.parse(response, RuntimeConfig)
