"""Client configuration: explicit arguments first, then environment variables.

All checks that can be made without the network happen here, at construction,
so a misconfigured client fails before it sends anything.  Keys are wrapped in
:class:`Secret` so that no ``repr()``, log line or traceback can print them.
"""

from __future__ import annotations

import enum
import ipaddress
import os
from collections.abc import Mapping
from typing import Final

import attrs
from yarl import URL

from . import _validate as check
from ._errors import ConfigurationError, InvalidRequestError, MissingCredentialsError
from ._proxy import ProxyConfig
from ._timeout import Timeout

__all__ = ["UNSET", "ClientConfig", "Secret", "Timeout", "Unset", "check_base_url", "mask"]


class Unset(enum.Enum):
    """Type of :data:`UNSET`: "not given", where ``None`` is a meaningful value."""

    UNSET = "UNSET"


#: ``with_options(deadline=UNSET)`` keeps the deadline; ``deadline=None`` removes it.
UNSET: Final = Unset.UNSET

DEFAULT_BASE_URL = "https://voice.stateset.app"
ENV_API_KEY = "STATESET_VOICE_API_KEY"
ENV_ADMIN_KEY = "STATESET_ADMIN_API_KEY"
ENV_BASE_URL = "STATESET_VOICE_BASE_URL"
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_CONNECTIONS = 100
#: 10 MiB: far above any answer of the API, far below what hurts a process.
DEFAULT_MAX_RESPONSE_BYTES = 10 * 2**20


def mask(value: str) -> str:
    """Show at most the last 4 characters, and none of a short value."""
    return "****" + value[-4:] if len(value) >= 12 else "****"


@attrs.frozen(repr=False, eq=False)
class Secret:
    """A string that refuses to be printed.

    ``str()`` and ``repr()`` both mask it: secrets leak through f-strings and
    exception messages as often as through ``repr``.  Call :meth:`reveal` at
    the single place that puts it on the wire.
    """

    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({mask(self._value)!r})"

    __str__ = __repr__


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(raw: str, *, allow_insecure_http: bool) -> URL:
    """Parse and vet the base URL: https, or http only to loopback or when opted in.

    Plain http to a remote host would send the Bearer key in clear text, so it
    is refused unless the caller says, in code, that this is what they want.
    """
    try:
        url = URL(raw.rstrip("/"))
    except ValueError as exc:  # yarl refuses e.g. a backslash in the authority
        raise ConfigurationError(f"base_url is not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {raw!r}")
    if url.scheme == "http" and not (is_loopback(url.host) or allow_insecure_http):
        raise ConfigurationError(
            f"refusing plain http:// to non-loopback host {url.host!r}: use https://, "
            "or pass allow_insecure_http=True if you really mean it"
        )
    if url.query_string or url.fragment:
        raise ConfigurationError("base_url must not carry a query string or fragment")
    return url


def _secret(explicit: str | None, env: Mapping[str, str], name: str) -> Secret | None:
    value = explicit if explicit is not None else env.get(name)
    return Secret(value) if value else None


@attrs.frozen
class ClientConfig:
    """Everything the transport needs, resolved and validated once."""

    base_url: URL
    api_key: Secret | None
    admin_key: Secret | None
    timeout: Timeout
    max_retries: int
    deadline: float | None
    max_connections: int
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: Sent on every request (after User-Agent/Accept, before credentials).
    default_headers: tuple[tuple[str, str], ...] = ()
    #: Who proxies REST and the events stream (see ``_proxy.select_proxy``).
    proxy: ProxyConfig = attrs.field(factory=ProxyConfig)

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        admin_key: str | None,
        base_url: str | None,
        timeout: float | Timeout | None,
        max_retries: int | None,
        deadline: float | None,
        max_connections: int,
        allow_insecure_http: bool,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        default_headers: Mapping[str, str] | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        env = os.environ if env is None else env
        # The same checks as per-call arguments (``_validate``); at construction
        # a bad value is a configuration error.
        try:
            retries = check.integer(
                "max_retries",
                DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
                minimum=0,
            )
            if deadline is not None:
                deadline = check.seconds("deadline", deadline)
            check.integer("max_connections", max_connections, minimum=1)
            check.integer("max_response_bytes", max_response_bytes, minimum=1)
            resolved_timeout = Timeout() if timeout is None else check.timeout(timeout)
            headers = check.headers("default_headers", default_headers or {})
        except InvalidRequestError as exc:
            raise ConfigurationError(str(exc)) from None
        return cls(
            base_url=check_base_url(
                base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
                allow_insecure_http=allow_insecure_http,
            ),
            api_key=_secret(api_key, env, ENV_API_KEY),
            admin_key=_secret(admin_key, env, ENV_ADMIN_KEY),
            timeout=resolved_timeout,
            max_retries=retries,
            deadline=deadline,
            max_connections=max_connections,
            max_response_bytes=max_response_bytes,
            default_headers=tuple(headers.items()),
            proxy=ProxyConfig.resolve(proxy, trust_env, env),
        )

    def evolve(
        self,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | Unset | None = UNSET,
        default_headers: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """This config with the given settings changed (``None``/``UNSET``: kept).

        Per-call-style options: a bad value is an :class:`InvalidRequestError`.
        ``default_headers`` are merged over the current ones, name by name.
        """
        changes: dict[str, object] = {}
        if timeout is not None:
            changes["timeout"] = check.timeout(timeout)
        if max_retries is not None:
            changes["max_retries"] = check.integer("max_retries", max_retries, minimum=0)
        if deadline is not UNSET:
            changes["deadline"] = None if deadline is None else check.seconds("deadline", deadline)
        if default_headers is not None:
            merged = {k.lower(): (k, v) for k, v in self.default_headers}
            for name, value in check.headers("default_headers", default_headers).items():
                merged[name.lower()] = (name, value)
            changes["default_headers"] = tuple(merged.values())
        return attrs.evolve(self, **changes)  # type: ignore[arg-type]

    def require_api_key(self) -> Secret:
        if self.api_key is None:
            raise MissingCredentialsError(f"no API key: pass api_key=... or set {ENV_API_KEY}")
        return self.api_key

    def require_admin_key(self) -> Secret:
        if self.admin_key is None:
            raise MissingCredentialsError(
                f"no admin key: pass admin_key=... or set {ENV_ADMIN_KEY}"
            )
        return self.admin_key
