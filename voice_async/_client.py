"""``AsyncVoiceClient``: configuration, lifecycle, and the resource namespaces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aiohttp
import attrs

from ._aio import AsyncClosing
from ._config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_BYTES,
    UNSET,
    ClientConfig,
    Timeout,
    Unset,
)
from ._errors import ConfigurationError
from ._hooks import EventHooks, Hook
from ._raw import RawNamespace, Run, raw
from ._retry import RetryPolicy
from ._runtime import Runtime
from ._transport import Transport
from .resources import AdminResource, CallsResource, SessionsResource
from .resources.calls import create_call
from .resources.campaigns import CampaignsResource

#: ``event_hooks=``: hook name -> async callables (see :mod:`voice_async._hooks`).
EventHooksArg = Mapping[str, Sequence[Hook]]


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
    ``max_response_bytes`` (default 10 MiB) caps every response body, success
    or error, while it streams in: past it the call raises
    :class:`ResponseTooLargeError` (not retried) and memory stays bounded
    whatever a broken server or proxy sends.  ``default_headers`` are sent
    on every request (they cannot set ``Authorization``, ``x-admin-key`` or
    ``Idempotency-Key``); every endpoint method also takes ``extra_headers=``
    for one call, and :meth:`with_options` gives a view with other settings.
    ``proxy`` (``"http://user:pass@proxy.corp:3128"``, http or https) sends
    REST calls and the live-events WebSocket through that proxy;
    ``trust_env=True`` takes it from ``HTTPS_PROXY``/``HTTP_PROXY``/
    ``ALL_PROXY`` and honours ``NO_PROXY`` instead.  One rule serves both
    connections, so they never take different routes.  The default is
    ``trust_env=False``: no proxy unless configured in code, because an SDK
    that silently routes its API key through whatever proxy the environment
    names is a surprise, and a local emulator must never be proxied.
    Proxy credentials are masked like keys.
    Pass ``http_session`` to reuse your own ``aiohttp.ClientSession`` (the
    client will not close it); REST then follows that session's proxy
    settings, and the events stream its ``trust_env``.  ``runtime`` swaps how
    the client sleeps between retries, draws jitter and reads the clock (see
    :class:`Runtime`): the one seam for tests and simulations.
    ``event_hooks`` maps ``"request"``, ``"response"``, ``"retry"``,
    ``"stream_connect"``, ``"stream_reconnect"`` and ``"stream_give_up"`` to
    lists of async callables, each given a frozen info object
    (:class:`RequestInfo`, :class:`ResponseInfo`, :class:`RetryInfo`, ...)
    with the URL template, never ids or secrets.  A hook that raises does
    not break the call: the failure is logged once per hook at WARNING
    (masked) and the call goes on.  ``client.with_raw_response.make_call(...)``
    (and ``with_raw_response`` on each resource) returns a
    :class:`RawResponse` with the status, headers and request id.
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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_insecure_http: bool = False,
        default_headers: Mapping[str, str] | None = None,
        proxy: str | None = None,
        trust_env: bool | None = None,
        http_session: aiohttp.ClientSession | None = None,
        retry_policy: RetryPolicy | None = None,
        runtime: Runtime | None = None,
        event_hooks: EventHooksArg | None = None,
    ) -> None:
        if http_session is not None:
            trust_env = _session_trust_env(http_session, proxy, trust_env)
        self.config = ClientConfig.resolve(
            api_key=api_key,
            admin_key=admin_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            max_connections=max_connections,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=max_response_bytes,
            default_headers=default_headers,
            proxy=proxy,
            trust_env=False if trust_env is None else trust_env,
        )
        if retry_policy is not None and max_retries is not None:
            retry_policy = attrs.evolve(retry_policy, max_retries=self.config.max_retries)
        self._attach(
            Transport(
                self.config,
                session=http_session,
                retry_policy=retry_policy,
                runtime=runtime,
                hooks=EventHooks(event_hooks) if event_hooks is not None else None,
            ),
            owns_pool=True,
        )

    def _attach(self, transport: Transport, *, owns_pool: bool) -> None:
        self.config = transport.config
        self._transport = transport
        self._run: Run = transport.run
        self._owns_pool = owns_pool
        self.calls = CallsResource(transport)
        self.sessions = SessionsResource(transport)
        self.admin = AdminResource(transport)
        self.campaigns = CampaignsResource(transport)

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | Unset | None = UNSET,
        default_headers: Mapping[str, str] | None = None,
        event_hooks: EventHooksArg | None = None,
    ) -> AsyncVoiceClient:
        """A view of this client with some settings changed, over the same pool.

        Like openai-python's ``with_options``: no new connections, so it is
        cheap enough to call per request::

            slow = client.with_options(timeout=120, max_retries=5)
            await slow.admin.get_runtime_config("tn_1")

        Omitted settings are kept; ``deadline=None`` removes the deadline;
        ``default_headers`` are merged over the client's; ``event_hooks``
        replace the client's (``{}`` removes them).  Closing the view
        does not close the pool (close the client that created it); once
        that client is closed, the view is closed too.  A bad value raises
        :class:`InvalidRequestError`.
        """
        transport = self._transport.with_options(
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            default_headers=default_headers,
            hooks=UNSET if event_hooks is None else EventHooks(event_hooks),
        )
        view = object.__new__(AsyncVoiceClient)
        view._attach(transport, owns_pool=False)
        return view

    #: Place an outbound call: the same method as :meth:`CallsResource.create`.
    make_call = create_call

    @property
    def with_raw_response(self) -> ClientWithRawResponse:
        """``client.with_raw_response.make_call(...)``: a :class:`RawResponse`."""
        return ClientWithRawResponse(self)

    @property
    def base_url(self) -> str:
        return str(self.config.base_url)

    @property
    def is_closed(self) -> bool:
        return self._transport.closed

    async def aclose(self) -> None:
        """Close the connection pool (if the client created it).  Safe to repeat.

        On a :meth:`with_options` view this does nothing: the pool belongs to
        the client the view came from.
        """
        if self._owns_pool:
            await self._transport.aclose()

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"AsyncVoiceClient(base_url={str(cfg.base_url)!r}, api_key={cfg.api_key!r}, "
            f"admin_key={cfg.admin_key!r})"
        )


def _session_trust_env(
    session: aiohttp.ClientSession, proxy: str | None, trust_env: bool | None
) -> bool:
    """The ``trust_env`` that makes the events stream follow a caller's session.

    Its proxy settings are the caller's to set; settings given to the client
    as well could only disagree with them, so they are refused.
    """
    if proxy is not None or (trust_env is not None and trust_env != session.trust_env):
        raise ConfigurationError(
            "proxy= and trust_env= cannot be applied to a caller's http_session: "
            "set them on that aiohttp.ClientSession instead"
        )
    return session.trust_env


class ClientWithRawResponse(RawNamespace):
    """``client.with_raw_response``: the client's own methods, answering raw."""

    make_call = raw(AsyncVoiceClient.make_call)
