"""The aiohttp application: routes, handlers and the one middleware.

Choices the contract leaves open (see also the docstrings of ``_validation``,
``_auth``, ``_faults`` and ``_ws``):

* ``POST /api/v1/incoming-call`` takes no Bearer key: it is Twilio's webhook
  target and Twilio cannot send one (signature checking belongs to the
  receiver in front, see the contract). The same ``CallSid`` posted again
  returns the same session, because Twilio retries webhooks.
* Only make-call requests that pass auth and validation are remembered under
  their ``Idempotency-Key``; a 400/401/422 can be retried with a fixed body.
  Replays carry ``Idempotent-Replayed: true`` and a fresh ``x-request-id``.
* A stale ``If-Match`` on a runtime-config PUT answers ``409`` with
  ``error.type = "version_conflict"`` (not ``idempotency_conflict``: nothing
  about it is retryable as-is). GET and PUT answers carry ``ETag: "<version>"``.
* ``list_shape`` other than ``"envelope"`` drops ``total``/``has_more``:
  ``"bare"`` is a JSON array, ``"sessions"``/``"items"`` are ``{"<name>": [...]}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from xml.sax.saxutils import quoteattr

from aiohttp import web

from . import _inject
from ._auth import require_admin, require_tenant
from ._conn import read_body
from ._errors import ApiError, from_http_exception, json_error
from ._filters import ListQuery
from ._lifecycle import create_call, insert_synthetic
from ._state import EmulatorState
from ._store import Page
from ._util import REQUEST_ID, new_request_id
from ._validation import (
    CallRequest,
    idempotency_key,
    parse_if_match,
    parse_list_query,
    validate_call,
    validate_config_patch,
)
from ._ws import events_handler

logger = logging.getLogger("voice_async.testing")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_UNFAULTED = frozenset({"make_call", "healthz", "unknown"})  # make_call faults itself


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    return web.Response(body=data, status=status, headers=headers, content_type="application/json")


def _shape(page: Page, query: ListQuery, shape: str) -> Any:
    if shape == "bare":
        return page.data
    if shape in ("sessions", "items"):
        return {shape: page.data}
    has_more = query.offset + len(page.data) < page.total
    return {
        "data": page.data,
        "limit": query.limit,
        "offset": query.offset,
        "total": page.total,
        "has_more": has_more,
    }


def _stream_url(base_url: str, session_id: str) -> str:
    ws_base = (
        "wss://" + base_url[8:]
        if base_url.startswith("https://")
        else ("ws://" + base_url.removeprefix("http://"))
    )
    return f"{ws_base}/api/v1/media-stream/{session_id}"


def _twiml(stream_url: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        f"<Stream url={quoteattr(stream_url)}/></Connect></Response>"
    ).encode()


def _call_response(session: dict[str, Any]) -> dict[str, Any]:
    names = ("call_sid", "status", "to", "from", "agent_key", "created_at", "metadata")
    return {"session_id": session["id"], **{name: session[name] for name in names}}


class Api:
    """Route handlers; each one is small and raises ApiError for any refusal."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def make_call(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        require_tenant(state, request)
        key = idempotency_key(request.headers)
        call = validate_call(await read_body(request, state.read_timeout))
        state.limits.admit()
        replay = None
        if key is not None:
            replay = state.idempotency.begin(key, call.canonical())
        decision = state.faults.decide("make_call")
        try:
            early = await _inject.before(state, request, decision)
        except BaseException:
            if key is not None and replay is None:
                state.idempotency.abandon(key)
            raise
        if early is not None:
            if key is not None and replay is None:
                state.idempotency.abandon(key)
            return early
        if replay is not None:
            state.stats.idempotent_replays += 1
            response = web.Response(
                body=replay.body,
                status=replay.status,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        else:
            response = self._place(call, key)
        return await _inject.after(state, request, decision, response)

    def _place(self, call: CallRequest, key: str | None) -> web.Response:
        record = create_call(
            self.state,
            direction="outbound",
            to=call.to,
            from_=call.from_,
            agent_key=call.agent_key,
            metadata=call.metadata,
        )
        self.state.stats.calls_placed += 1
        self.state.limits.placed(record.session)
        response = _json(_call_response(record.session), status=201)
        if key is not None:
            assert isinstance(response.body, bytes)
            self.state.idempotency.complete(key, 201, response.body)
        return response

    async def list_sessions(self, request: web.Request) -> web.StreamResponse:
        require_tenant(self.state, request)
        query = parse_list_query(request.query)
        if self.state.faults.head_insert:
            insert_synthetic(self.state, self.state.faults.head_insert)
        page = self.state.sessions.page(query)
        return _json(_shape(page, query, self.state.list_shape))

    async def get_session(self, request: web.Request) -> web.StreamResponse:
        require_tenant(self.state, request)
        session_id = request.match_info["session_id"]
        session = self.state.sessions.get(session_id)
        if session is None:
            raise ApiError(404, f"no voice session {session_id!r}", param="session_id")
        return _json(session)

    async def events(self, request: web.Request) -> web.StreamResponse:
        return await events_handler(self.state, request)

    async def incoming_call(self, request: web.Request) -> web.StreamResponse:
        await read_body(request, self.state.read_timeout)  # post() then parses the cached body
        form = await request.post()
        fields = {}
        for name in ("CallSid", "From", "To"):
            value = form.get(name)
            if not isinstance(value, str) or not value:
                raise ApiError(400, f"{name} is required", param=name)
            fields[name] = value
        record = self.state.sessions.by_call_sid(fields["CallSid"])
        if record is None and self.state.stats.inbound_calls >= self.state.inbound_limit:
            # Unauthenticated by design (Twilio's target), so a flood of fresh
            # CallSids must not grow memory without bound.
            raise ApiError(
                429,
                f"inbound call limit reached ({self.state.inbound_limit} "
                "sessions); restart the emulator or raise inbound_limit",
                headers={"Retry-After": "60"},
            )
        if record is None:
            account = form.get("AccountSid")
            metadata = {"account_sid": account} if isinstance(account, str) else {}
            record = create_call(
                self.state,
                direction="inbound",
                to=fields["To"],
                from_=fields["From"],
                agent_key="inbound_default",
                metadata=metadata,
                call_sid=fields["CallSid"],
            )
            self.state.stats.inbound_calls += 1
        url = _stream_url(self.state.base_url, record.id)
        return web.Response(body=_twiml(url), content_type="text/xml")

    def _tenant_config(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        require_admin(self.state, request)
        tenant_id = request.match_info["tenant_id"]
        config = self.state.configs.get(tenant_id)
        if config is None:
            raise ApiError(404, f"no tenant {tenant_id!r}", param="tenant_id")
        return tenant_id, config

    async def get_runtime_config(self, request: web.Request) -> web.StreamResponse:
        _, config = self._tenant_config(request)
        return _json(config, headers={"ETag": f'"{config["version"]}"'})

    async def put_runtime_config(self, request: web.Request) -> web.StreamResponse:
        tenant_id, _ = self._tenant_config(request)
        changes = validate_config_patch(await read_body(request, self.state.read_timeout))
        if_match = parse_if_match(request.headers)
        config = self.state.configs.update(tenant_id, changes, if_match)
        return _json(config, headers={"ETag": f'"{config["version"]}"'})

    async def healthz(self, request: web.Request) -> web.StreamResponse:
        return _json({"status": "ok"})


def _routes(api: Api) -> list[tuple[str, str, str, Handler]]:
    sessions = "/api/v1/voice-sessions"
    config = "/api/v1/admin/tenants/{tenant_id}/runtime-config"
    return [
        ("POST", "/api/v1/make-call", "make_call", api.make_call),
        ("GET", sessions, "list_sessions", api.list_sessions),
        ("GET", sessions + "/{session_id}", "get_session", api.get_session),
        ("GET", sessions + "/{session_id}/events", "events", api.events),
        ("POST", "/api/v1/incoming-call", "incoming_call", api.incoming_call),
        ("GET", config, "get_runtime_config", api.get_runtime_config),
        ("PUT", config, "put_runtime_config", api.put_runtime_config),
        ("GET", "/healthz", "healthz", api.healthz),
    ]


def _route_name(request: web.Request, names: dict[tuple[str, str], str]) -> str:
    route = request.match_info.route
    resource = route.resource
    if resource is None:
        return "unknown"
    return names.get((route.method, resource.canonical), "unknown")


def _middleware(state: EmulatorState, names: dict[tuple[str, str], str]) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = new_request_id()
        REQUEST_ID.set(request_id)
        route = _route_name(request, names)
        state.stats.requests[route] += 1
        try:
            if route in _UNFAULTED:
                response = await _inject.answer(handler, request)
            else:
                response = await _inject.with_faults(state, request, route, handler)
        except web.HTTPException as exc:
            response = from_http_exception(exc)
        except Exception:
            logger.exception("emulator handler failed")
            response = json_error(500, "server_error", "internal emulator error")
        if not response.prepared:
            response.headers["x-request-id"] = request_id
        return response

    return middleware


def build_app(state: EmulatorState) -> web.Application:
    api = Api(state)
    names: dict[tuple[str, str], str] = {}
    app = web.Application(middlewares=[_middleware(state, names)])
    for method, path, name, handler in _routes(api):
        route = app.router.add_route(method, path, handler)
        names[(method, route.resource.canonical if route.resource else path)] = name
    return app
