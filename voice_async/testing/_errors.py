"""Contract-shaped error responses.

Handlers raise :class:`ApiError` instead of building responses so that
validation code stays linear; one middleware turns it into the contract's
``{"error": {"type", "message", "param"}}`` body.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

#: Default ``error.type`` per status, as in the contract's error table.
STATUS_TYPES: dict[int, str] = {
    400: "invalid_request",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    405: "invalid_request",
    409: "idempotency_conflict",
    413: "invalid_request",
    422: "validation_error",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error answer, raised from anywhere inside a handler."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        type: str | None = None,
        headers: dict[str, str] | None = None,
        close_connection: bool = False,
    ) -> None:
        super().__init__(message)
        self.close_connection = close_connection
        self.status = status
        self.message = message
        self.param = param
        self.type = type or error_type_for(status)
        self.headers = headers or {}

    def response(self) -> web.Response:
        response = json_error(
            self.status, self.type, self.message, param=self.param, headers=self.headers
        )
        if self.close_connection:
            response.force_close()
        return response


def error_type_for(status: int) -> str:
    if status >= 500:
        return "server_error"
    return STATUS_TYPES.get(status, "invalid_request")


def error_body(type_: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "param": param}}


def json_error(
    status: int,
    type_: str,
    message: str,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response(error_body(type_, message, param), status=status, headers=headers)


def from_http_exception(exc: web.HTTPException) -> web.Response:
    """Turn aiohttp's own errors (unknown path, wrong method, body too big) into JSON."""
    status = exc.status
    message = {404: "no such route", 405: "method not allowed"}.get(status, exc.reason)
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    return json_error(status, error_type_for(status), message, headers=headers)
