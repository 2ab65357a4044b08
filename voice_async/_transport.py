"""The one place that sends HTTP.

It holds the connection pool (``_pool``) and everything every request needs: URL joining,
auth headers (Bearer for tenant routes, ``x-admin-key`` for admin routes and
never the other way round), the User-Agent, timeouts and the overall
deadline, retries with backoff and the per-request log line.  Reading and
mapping the answer (bounded bodies, typed errors, masking) is ``_response``'s.
Resources describe *what* to send; this module decides *how*.
"""

from __future__ import annotations

import asyncio
import json
import json.encoder
import logging
import platform
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Literal, TypeVar, overload
from urllib.parse import urlencode

import aiohttp
import attrs
from yarl import URL

from . import _hooks
from . import _validate as check
from ._attempt import Attempt, client_timeout
from ._config import UNSET, ClientConfig, Timeout, Unset
from ._errors import (
    APIError,
    APIStatusError,
    ResponseTooLargeError,
)
from ._hooks import CallInfo, CallObserver, EventHooks
from ._pool import Pool
from ._proxy import proxy_for
from ._raw import Operation, Result
from ._response import ACCEPT_ENCODING, Expect, Response, parse, status_error
from ._retry import RetryPolicy, is_retryable_status, retry_delay
from ._runtime import Runtime
from ._version import __version__

__all__ = ["Auth", "Response", "Transport", "status_error"]

logger = logging.getLogger("voice_async")

Auth = Literal["tenant", "admin", "none"]
T = TypeVar("T")
R = TypeVar("R")

USER_AGENT = (
    f"voice-async/{__version__} python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
)
#: Methods whose retry cannot duplicate a side effect.  POST is retried only
#: when it carries an ``Idempotency-Key`` (the server then deduplicates).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: The reference encoder: compact, UTF-8 as is.  Stateless between calls.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _make_fast_encoder() -> Callable[[Any], str]:
    """``_JSON_ENCODER.encode``, without rebuilding the C encoder on every call.

    ``JSONEncoder.encode`` makes a new C encoder per call (and ``json.dumps``
    with non-default arguments a new ``JSONEncoder`` too): ~0.7 us of a
    1.2 us encode for a ``make_call`` body.  This one is made once.  It keeps
    no circular-reference markers (a shared set would be left dirty by a
    failed call); bodies are built by the resources from validated values,
    and anything it cannot encode is encoded again by the reference encoder,
    which raises its usual error.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the _json accelerator
        return _JSON_ENCODER.encode
    # Positional only, as JSONEncoder.iterencode passes them: markers (none),
    # default, string encoder, indent, key and item separators, sort_keys,
    # skipkeys, allow_nan -- the reference encoder's settings.
    chunks = make(
        None,
        _JSON_ENCODER.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        False,
        False,
        True,
    )

    def encode(value: Any) -> str:
        try:
            return "".join(chunks(value, 0))
        except (TypeError, ValueError, RecursionError):
            return _JSON_ENCODER.encode(value)

    return encode


_encode_json = _make_fast_encoder()
#: Bound on the per-transport URL cache; ids in paths make the set of paths open.
_MAX_CACHED_URLS = 256


class Transport:
    """Sends requests for one client over one lazily created aiohttp session."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        retry_policy: RetryPolicy | None = None,
        runtime: Runtime | None = None,
        pool: Pool | None = None,
        hooks: EventHooks | None = None,
    ) -> None:
        self.config = config
        #: The client's ``event_hooks`` (``None`` when it has none: the fast path).
        self.hooks = hooks if hooks else None
        #: The connections; shared with the transports of ``with_options`` views.
        self.pool = pool or Pool(
            config.max_connections, session, proxy_for(config.proxy, config.base_url)
        )
        self.retry_policy = retry_policy or RetryPolicy(max_retries=config.max_retries)
        #: Sleep, jitter and clock: the one documented seam (see ``Runtime``).
        self.runtime = runtime or Runtime()
        #: Every configured secret in clear, for masking server-supplied text.
        self.secrets = tuple(s.reveal() for s in (config.api_key, config.admin_key) if s)
        self.secrets += config.proxy.secrets()
        # Built once: every request copies it, then adds its credential.
        self._base_headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        merge_headers(self._base_headers, dict(config.default_headers))
        # Pure functions of the (frozen) config, computed once per transport and
        # so per with_options view: the credentialed headers per auth kind, the
        # URL per path, the aiohttp timeout when no per-call value applies.
        self._auth_headers: dict[Auth, dict[str, str]] = {}
        self._urls: dict[str, URL] = {}
        self._timeout = client_timeout(config.timeout, None)

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | Unset | None = UNSET,
        default_headers: Mapping[str, str] | None = None,
        hooks: EventHooks | Unset = UNSET,
    ) -> Transport:
        """A transport with some settings changed, over the same pool and runtime."""
        config = self.config.evolve(
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            default_headers=default_headers,
        )
        policy = self.retry_policy
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=config.max_retries)
        view = Transport(
            config,
            retry_policy=policy,
            runtime=self.runtime,
            pool=self.pool,
            hooks=self.hooks if isinstance(hooks, Unset) else hooks,
        )
        view.secrets = self.secrets  # including any a caller added
        return view

    # -- session lifecycle -------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.pool.closed

    def session(self) -> aiohttp.ClientSession:
        return self.pool.session()

    async def aclose(self) -> None:
        """Close the pool (see :meth:`Pool.aclose`)."""
        await self.pool.aclose()

    # -- building requests -------------------------------------------------

    def url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            base = self.config.base_url
            url = base.with_path(base.path.rstrip("/") + path)
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()  # bounded: ids make paths unbounded
            self._urls[path] = url
        return url

    def ws_url(self, path: str) -> URL:
        """``wss://`` for an ``https://`` base URL, ``ws://`` for ``http://``."""
        url = self.url(path)
        return url.with_scheme("wss" if url.scheme == "https" else "ws")

    def headers(self, auth: Auth) -> dict[str, str]:
        """Base headers plus exactly one kind of credential (or none): a fresh dict.

        Built once per auth kind; a missing key is never cached, so every
        call that needs it fails before sending.
        """
        cached = self._auth_headers.get(auth)
        if cached is None:
            cached = self._auth_headers[auth] = self._credentialed_headers(auth)
        return dict(cached)

    def _credentialed_headers(self, auth: Auth) -> dict[str, str]:
        headers = dict(self._base_headers)
        if auth == "tenant":
            headers["Authorization"] = f"Bearer {self.config.require_api_key().reveal()}"
        elif auth == "admin":
            headers["x-admin-key"] = self.config.require_admin_key().reveal()
        return headers

    # -- sending -----------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        auth: Auth,
        operation: str | None = None,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | Timeout | None = None,
        expect: Expect = "json",
    ) -> Response:
        """Send one logical request described by keywords; see :meth:`execute`.

        ``path`` is a template when ``path_params`` fill its ``{name}``
        placeholders; ``operation`` names the call for hooks and traces
        (default ``"METHOD template"``).
        """
        return await self.execute(
            Operation(
                operation or "",
                method,
                path,
                auth,
                _keep_response,
                path_params,
                params,
                json_body,
                form,
                headers,
                extra_headers,
                timeout,
                expect,
            )
        )

    def execute(self, op: Operation[Any]) -> Coroutine[Any, Any, Response]:
        """Send ``op``; the :class:`Response` itself (raw responses, :meth:`request`)."""
        return self.run(op, _keep_response)

    @overload
    def run(self, op: Operation[T]) -> Coroutine[Any, Any, T]: ...

    @overload
    def run(self, op: Operation[Any], result: Result[R]) -> Coroutine[Any, Any, R]: ...

    def run(
        self, op: Operation[Any], result: Result[Any] | None = None
    ) -> Coroutine[Any, Any, Any]:
        """Send ``op``; its answer decoded by ``result`` (default ``op.result``).

        What endpoint methods await (``self._run`` is this method).

        Not ``async`` itself, so an endpoint's ``await self._run(op)`` goes
        straight into the retry loop: one coroutine layer per call fewer.
        Arguments are checked here, when it is called (which, everywhere,
        is when it is awaited): nothing is sent if they are wrong.

        ``op.expect`` is what the endpoint answers on success: ``"json"`` (a
        2xx without a body is still a success, with ``data=None``) or
        ``"text"``.  ``op.headers`` are the endpoint's own
        (``Idempotency-Key``, ``If-Match``); ``op.extra_headers`` the
        caller's, merged last, checked so they cannot replace a credential or
        the idempotency key.  Raises only :class:`VoiceError` subclasses.
        Credentials are checked first, so a missing key fails before anything
        is sent.
        """
        all_headers = self.headers(op.auth)
        if op.headers:
            all_headers.update(op.headers)
        key = op.idempotency_key
        if key is not None:
            all_headers["Idempotency-Key"] = key
        if op.extra_headers:
            merge_headers(all_headers, check.headers("extra_headers", op.extra_headers))
        # Bodies are encoded to bytes once, so every retry resends them as-is.
        data: bytes | None = None
        if op.json_body is not None:
            data = _encode_json(op.json_body).encode()
            all_headers["Content-Type"] = "application/json"
        elif op.form is not None:
            data = urlencode(op.form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        method = op.method
        retry_safe = (
            key is not None or method in IDEMPOTENT_METHODS or "Idempotency-Key" in all_headers
        )
        timeout = self.config.timeout if op.timeout is None else check.timeout(op.timeout)
        path = op.template if op.path_params is None else op.template.format_map(op.path_params)
        attempt = Attempt(self, method, path, op.params, data, all_headers, timeout, op.expect)
        if result is None:
            result = op.result
        if self.hooks is None and _hooks._tracer is None:
            return self._with_retries(attempt, retry_safe, result, None)
        return self._observed(op, attempt, retry_safe, result)

    async def _observed(
        self, op: Operation[Any], attempt: Attempt, retry_safe: bool, result: Result[T]
    ) -> T:
        """:meth:`_with_retries` watched by the client's hooks and the installed tracer."""
        base = self.config.base_url
        name = op.name or f"{op.method} {op.template}"
        call = CallInfo(name, op.method, op.template, base.host or "", base.port or 0)
        observer = CallObserver(call, attempt.headers, self.hooks, self.secrets)
        try:
            value = await self._with_retries(attempt, retry_safe, result, observer)
        except BaseException as exc:
            observer.end(exc)
            raise
        observer.end(None)
        return value

    async def emit(self, name: str, info: object) -> None:
        """Run the client's hooks called ``name`` (the events stream's hooks use this)."""
        if self.hooks is not None:
            await self.hooks.dispatch(name, info, self.secrets)

    def parse(self, response: Response, cls: type[T]) -> T:
        """Decode a response into a model; a mismatch is a masked, typed error."""
        return parse(response, cls, self.secrets)

    async def _with_retries(
        self,
        attempt: Attempt,
        retry_safe: bool,
        result: Result[T],
        observer: CallObserver | None,
    ) -> T:
        """Send until an answer, a final error or the policy says stop; decode with ``result``.

        ``result`` runs after the loop: a body that does not fit the model is
        never retried.
        """
        limit = self.config.deadline
        # The loop's clock is read only under a deadline (most calls have none).
        loop = asyncio.get_running_loop() if limit else None
        deadline = loop.time() + limit if loop and limit else None
        retry_index = 0
        while True:
            remaining = deadline - loop.time() if loop and deadline is not None else None
            try:
                if observer is not None:
                    await observer.request(retry_index + 1)
                response = await attempt.send(retry_index + 1, remaining)
            except APIError as exc:
                error: APIError = exc
            else:
                if observer is not None:
                    await observer.response(
                        retry_index + 1, response.status, response.headers, response.request_id
                    )
                return result(response, self.secrets)
            if observer is not None:
                await observer.failed(retry_index + 1, error)
            if not (retry_safe and _retryable(error)):
                raise error
            retry_after = error.retry_after if isinstance(error, APIStatusError) else None
            delay = retry_delay(self.retry_policy, retry_index, retry_after, self.runtime.random)
            if delay is None or (loop and deadline is not None and loop.time() + delay >= deadline):
                raise error
            logger.info(
                "retrying %s %s in %.2fs after %s (retry %d of %d)",
                attempt.method,
                attempt.path,
                delay,
                type(error).__name__,
                retry_index + 1,
                self.retry_policy.max_retries,
            )
            if observer is not None:
                await observer.retry(retry_index + 1, error, delay)
            await self.runtime.sleep(delay)
            retry_index += 1


def _keep_response(response: Response, secrets: tuple[str, ...]) -> Response:
    """The :data:`~voice_async._raw.Result` of :meth:`Transport.request`: the response itself."""
    return response


def merge_headers(target: dict[str, str], extra: Mapping[str, str]) -> None:
    """``target.update(extra)``, but by case-insensitive name.

    A plain ``update`` would keep both ``User-Agent`` and ``user-agent``,
    and aiohttp would send the header twice.
    """
    lowered = {name.lower(): name for name in target}
    for name, value in extra.items():
        old = lowered.get(name.lower())
        if old is not None and old != name:
            del target[old]
        target[name] = value


def _retryable(exc: APIError) -> bool:
    """Whether sending the same request again may succeed.

    Status errors follow the status; connection errors and undecodable 2xx
    bodies (a truncated answer) are transient.  An oversized body is not: the
    same server would most likely send it again, and reading it cost enough.
    """
    if isinstance(exc, APIStatusError):
        return is_retryable_status(exc.status, exc.error_type)
    return not isinstance(exc, ResponseTooLargeError)
