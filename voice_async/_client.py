"""``AsyncVoiceClient``: configuration, lifecycle, and the resource namespaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs

from ._aio import AsyncClosing
from ._config import DEFAULT_MAX_CONNECTIONS, ClientConfig, Timeout
from ._models import Call
from ._retry import RetryPolicy
from ._runtime import Runtime
from ._transport import Transport
from .resources import AdminResource, CallsResource, SessionsResource
from .resources.campaigns import CampaignsResource


class AsyncVoiceClient(AsyncClosing):
    """The async client for the StateSet Voice API.

    Make one per application (or worker) and share it: it holds one aiohttp
    connection pool, created lazily in the running loop on first use and
    closed by ``aclose()`` or ``async with``::

        async with AsyncVoiceClient() as client:
            call = await client.make_call(to="+15555555678", from_="+15555551234",
                                          agent_key="support_primary")

    Every argument falls back to the environment: ``STATESET_VOICE_API_KEY``,
    ``STATESET_ADMIN_API_KEY``, ``STATESET_VOICE_BASE_URL``.  A missing key is
    reported only when an endpoint that needs it is called.

    ``timeout`` bounds one attempt (seconds, or a :class:`Timeout`);
    ``deadline`` bounds one call with all its retries; ``max_retries``
    (default 2) applies to connection errors, 408, 429, 5xx and 409
    "in progress" -- and to POST only with an idempotency key.
    ``retry_policy`` tunes the backoff (its ``max_retries`` is used unless
    ``max_retries`` is also given).  ``max_connections`` caps the pool.
    Pass ``http_session`` to reuse your own ``aiohttp.ClientSession`` (the
    client will not close it).  ``runtime`` swaps how the client sleeps
    between retries, draws jitter and reads the clock (see :class:`Runtime`):
    the one seam for tests and simulations.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        admin_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        allow_insecure_http: bool = False,
        http_session: aiohttp.ClientSession | None = None,
        retry_policy: RetryPolicy | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.config = ClientConfig.resolve(
            api_key=api_key,
            admin_key=admin_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            max_connections=max_connections,
            allow_insecure_http=allow_insecure_http,
        )
        if retry_policy is not None and max_retries is not None:
            retry_policy = attrs.evolve(retry_policy, max_retries=self.config.max_retries)
        self._transport = Transport(
            self.config, session=http_session, retry_policy=retry_policy, runtime=runtime
        )
        self.calls = CallsResource(self._transport)
        self.sessions = SessionsResource(self._transport)
        self.admin = AdminResource(self._transport)
        self.campaigns = CampaignsResource(self._transport)

    async def make_call(
        self,
        *,
        to: str,
        from_: str,
        agent_key: str,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        timeout: float | Timeout | None = None,
    ) -> Call:
        """Place an outbound call; see :meth:`CallsResource.create`."""
        return await self.calls.create(
            to=to,
            from_=from_,
            agent_key=agent_key,
            metadata=metadata,
            idempotency_key=idempotency_key,
            timeout=timeout,
        )

    @property
    def base_url(self) -> str:
        return str(self.config.base_url)

    @property
    def is_closed(self) -> bool:
        return self._transport.closed

    async def aclose(self) -> None:
        """Close the connection pool (if the client created it).  Safe to repeat."""
        await self._transport.aclose()

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"AsyncVoiceClient(base_url={str(cfg.base_url)!r}, api_key={cfg.api_key!r}, "
            f"admin_key={cfg.admin_key!r})"
        )
