"""Admin: tenant runtime configuration (``x-admin-key`` only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import _validate as check
from .._config import Timeout
from .._errors import InvalidRequestError
from .._models import RuntimeConfig
from .._raw import Operation, RawNamespace, Resource, model_result, raw

CONFIG_PATH = "/api/v1/admin/tenants/{tenant_id}/runtime-config"
_CONFIG = model_result(RuntimeConfig)


def _tenant(tenant_id: str) -> dict[str, str]:
    return {"tenant_id": check.path_id("tenant_id", tenant_id)}


class AdminResource(Resource):
    @property
    def with_raw_response(self) -> AdminWithRawResponse:
        """The same methods, returning :class:`RawResponse` (status, headers, request id)."""
        return AdminWithRawResponse(self)

    async def get_runtime_config(
        self,
        tenant_id: str,
        *,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RuntimeConfig:
        """The tenant's stored runtime config, with its ``version`` (also the ``ETag``)."""
        return await self._run(
            Operation(
                "admin.get_runtime_config",
                "GET",
                CONFIG_PATH,
                "admin",
                _CONFIG,
                path_params=_tenant(tenant_id),
                timeout=timeout,
                extra_headers=extra_headers,
            )
        )

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
        path_params = _tenant(tenant_id)
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
        return await self._run(
            Operation(
                "admin.update_runtime_config",
                "PUT",
                CONFIG_PATH,
                "admin",
                _CONFIG,
                path_params=path_params,
                json_body=body,
                headers=headers,
                extra_headers=extra_headers,
                timeout=timeout,
            )
        )


class AdminWithRawResponse(RawNamespace):
    """``client.admin.with_raw_response``."""

    get_runtime_config = raw(AdminResource.get_runtime_config)
    update_runtime_config = raw(AdminResource.update_runtime_config)
