"""A server that answers too slowly is bounded by ``timeout`` and ``deadline`` (kept fixed).

The slowloris answer sends its headers at once and then one byte at a time,
forever: no read ever times out on its own.  ``timeout`` bounds one attempt
from connect to the last byte, ``deadline`` the whole call with its retries.
"""

from __future__ import annotations

import time

from voice_async import APITimeoutError, Timeout

from ._http_servers import HostileServer, trickle_body
from .conftest import hostile_client, outcome


async def test_a_trickling_body_is_bounded_by_the_attempt_timeout(hostile: HostileServer) -> None:
    hostile.handler = trickle_body()
    async with hostile_client(hostile, timeout=Timeout(total=0.5, connect=5), max_retries=1) as c:
        started = time.monotonic()
        result = await outcome(c.sessions.get("vs_slow"))
    assert isinstance(result, APITimeoutError)
    assert hostile.requests == 2  # a timeout is transient: retried once, then raised
    assert time.monotonic() - started < 8.0
    assert await hostile.wait_connections(0)


async def test_a_trickling_body_is_bounded_by_the_deadline(hostile: HostileServer) -> None:
    hostile.handler = trickle_body()
    async with hostile_client(hostile, timeout=30.0, deadline=1.0, max_retries=5) as client:
        started = time.monotonic()
        result = await outcome(
            client.make_call(to="+15555555678", from_="+15555551234", agent_key="support_primary")
        )
    assert isinstance(result, APITimeoutError)
    assert time.monotonic() - started < 8.0
