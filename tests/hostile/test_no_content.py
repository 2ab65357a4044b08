"""A 2xx without a body is a success, never retried (issue 11.7).

The transport decides by what the endpoint expects, not by a blanket JSON
parse: for an endpoint that answers text (``calls.forward_incoming``), a 204,
an empty 200 or an HTML 200 is simply the answer; for an endpoint that
answers a model, a bodiless 2xx is reported once as "no body" (there is no
model to return) and is not sent again -- the server said it succeeded.
"""

from __future__ import annotations

import pytest

from voice_async import APIResponseValidationError

from ._http_servers import HostileServer, no_content, raw_reply
from .conftest import CALL, hostile_client, outcome

TWILIO_FORM = {"CallSid": "CA123", "From": "+15555551234", "To": "+15555555678"}


@pytest.mark.parametrize("status", [200, 201, 202, 204, 205])
async def test_no_body_where_text_is_expected_is_success(
    hostile: HostileServer, status: int
) -> None:
    hostile.handler = no_content(status)
    async with hostile_client(hostile) as client:
        assert await outcome(client.calls.forward_incoming(TWILIO_FORM)) == ""
    assert hostile.requests == 1


async def test_non_json_where_text_is_expected_is_success(hostile: HostileServer) -> None:
    hostile.handler = raw_reply(b"<Response/>", content_type="text/xml")
    async with hostile_client(hostile) as client:
        assert await outcome(client.calls.forward_incoming(TWILIO_FORM)) == "<Response/>"


@pytest.mark.parametrize("status", [200, 201, 204, 205])
async def test_no_body_where_a_model_is_expected_is_reported_once(
    hostile: HostileServer, status: int
) -> None:
    """Retry-safe requests all (GET, PUT, POST with a key): one request each, typed error."""
    hostile.handler = no_content(status)
    async with hostile_client(hostile) as client:
        ops = {
            "make_call": client.make_call(**CALL),
            "admin.get": client.admin.get_runtime_config("tn_1"),
            "admin.update": client.admin.update_runtime_config("tn_1", voice="alloy"),
        }
        for name, op in ops.items():
            before = hostile.requests
            error = await outcome(op)
            assert isinstance(error, APIResponseValidationError), (name, error)
            assert "has no body" in str(error) and error.status == status
            assert hostile.requests == before + 1, f"{name} was retried"
        # sessions.* decode in their own module: typed, and not retried either.
        before = hostile.requests
        assert isinstance(await outcome(client.sessions.get("vs_1")), APIResponseValidationError)
        assert hostile.requests == before + 1


async def test_a_truncated_json_body_is_still_retried(hostile: HostileServer) -> None:
    """Unchanged: a 2xx body that is *present* but broken is a transient fault."""
    hostile.handler = raw_reply(b'{"tenant_id": "tn_1", "vers', status=200)
    async with hostile_client(hostile) as client:
        error = await outcome(client.admin.get_runtime_config("tn_1"))
    assert isinstance(error, APIResponseValidationError) and "not valid JSON" in str(error)
    assert hostile.requests == 3
