"""Calls: place an outbound call; hand an inbound Twilio webhook to StateSet."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .. import _validate as check
from .._config import Timeout
from .._models import Call
from .._raw import Operation, RawNamespace, Resource, Runner, model_result, raw
from .._response import Response

MAKE_CALL_PATH = "/api/v1/make-call"
_CALL = model_result(Call)


def _twiml(response: Response, secrets: tuple[str, ...]) -> str:
    return response.text


async def create_call(
    owner: Runner,
    /,
    *,
    to: str,
    from_: str,
    agent_key: str,
    metadata: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    timeout: float | Timeout | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Call:
    """Place an outbound call (``POST /api/v1/make-call``).

    Every call carries an ``Idempotency-Key`` -- a fresh random one (128
    bits, hex) unless you pass your own -- and every retry of it reuses that
    key, so a retry after a lost response returns the original call instead
    of dialling twice.  Pass your own key to make retries safe *across* processes
    (e.g. derive it from your order id).  ``extra_headers`` are added
    to this request only; they cannot replace the key or the credentials.
    """
    body: dict[str, Any] = {
        "to": check.phone("to", to),
        "from": check.phone("from_", from_),
        "agent_key": check.agent_key(agent_key),
    }
    meta = check.metadata(metadata)
    if meta is not None:
        body["metadata"] = meta
    # 32 hex digits from the OS CSPRNG (what ``secrets.token_hex`` reads, without
    # its three Python layers): as unguessable as a uuid4, ~1.5 us cheaper.
    key = (
        os.urandom(16).hex() if idempotency_key is None else check.idempotency_key(idempotency_key)
    )
    return await owner._run(
        Operation(
            "make_call",
            "POST",
            MAKE_CALL_PATH,
            "tenant",
            _CALL,
            json_body=body,
            extra_headers=extra_headers,
            timeout=timeout,
            idempotency_key=key,
        )
    )


class CallsResource(Resource):
    @property
    def with_raw_response(self) -> CallsWithRawResponse:
        """The same methods, returning :class:`RawResponse` (status, headers, request id)."""
        return CallsWithRawResponse(self)

    create = create_call

    async def forward_incoming(
        self,
        params: Mapping[str, str],
        *,
        timeout: float | Timeout | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> str:
        """POST Twilio's webhook form to ``/api/v1/incoming-call``; return the TwiML.

        Not retried: without an idempotency key the service could create a
        second inbound session, and Twilio retries failed webhooks itself.
        """
        params = check.string_map("params", params)
        return await self._run(
            Operation(
                "calls.forward_incoming",
                "POST",
                "/api/v1/incoming-call",
                "none",
                _twiml,
                form=params,
                extra_headers=extra_headers,
                timeout=timeout,
                expect="text",
            )
        )


class CallsWithRawResponse(RawNamespace):
    """``client.calls.with_raw_response``."""

    create = raw(CallsResource.create)
    forward_incoming = raw(CallsResource.forward_incoming)
