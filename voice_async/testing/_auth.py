"""Tenant (Bearer) and admin (``x-admin-key``) authentication.

Admin rule: no ``x-admin-key`` but an ``Authorization: Bearer ...`` header is
``403 permission_error`` (a tenant key never grants admin access, and telling
the caller so is more useful than a bare 401); no key at all, or a wrong
admin key, is ``401 authentication_error``.
"""

from __future__ import annotations

from aiohttp import web

from ._errors import ApiError
from ._state import EmulatorState
from ._util import secret_equals


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def tenant_authorized(state: EmulatorState, request: web.Request) -> bool:
    return secret_equals(bearer_token(request), state.api_key)


def require_tenant(state: EmulatorState, request: web.Request) -> None:
    if not tenant_authorized(state, request):
        raise ApiError(401, "missing or invalid API key (Authorization: Bearer <key>)")


def require_admin(state: EmulatorState, request: web.Request) -> None:
    admin_key = request.headers.get("x-admin-key")
    if admin_key is None:
        if bearer_token(request) is not None:
            raise ApiError(403, "admin endpoints need x-admin-key; a tenant API key is not enough")
        raise ApiError(401, "missing x-admin-key")
    if not secret_equals(admin_key, state.admin_key):
        raise ApiError(401, "invalid admin key")
