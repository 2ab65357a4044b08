"""Which proxy a connection goes through: one rule for REST and the events stream.

aiohttp (REST) and python-websockets (live events) each have their own idea of
proxies: aiohttp ignores the environment unless ``trust_env=True`` and then
reads only ``http_proxy``/``https_proxy`` (dropping ``https://`` values),
while websockets >= 15 reads the environment by default, prefers
``https_proxy`` even for ``ws://`` and honours ``NO_PROXY`` by ``host:port``.
Left alone, a client would send its REST calls direct and its event stream
through a proxy.  So neither library decides: :func:`select_proxy` does, from
the client's :class:`ProxyConfig` and the target URL, and both transports are
handed its answer explicitly (aiohttp's session-level ``proxy=`` with
``trust_env=False``; websockets' ``proxy=``, where ``None`` turns its own
lookup off).

The rule: an explicit ``proxy=`` is used for everything; otherwise, only with
``trust_env=True``, the environment: ``NO_PROXY`` first (``*``, host or
``host:port``, domain suffixes), then ``https_proxy`` for ``https``/``wss``
targets and ``http_proxy`` for ``http``/``ws``, then ``all_proxy``; lowercase
names win over uppercase ones, and ``HTTP_PROXY`` is ignored under CGI
(``REQUEST_METHOD`` set: the "httpoxy" attack), as in :mod:`urllib.request`.
"""

from __future__ import annotations

import base64
import urllib.request
from collections.abc import Mapping

import attrs
from yarl import URL

from ._errors import ConfigurationError

__all__ = ["ProxyConfig", "ProxyURL", "proxy_for", "select_proxy"]

#: Proxy schemes both aiohttp and python-websockets can use.  SOCKS needs
#: python-socks for websockets and aiohttp-socks (a connector) for aiohttp.
SUPPORTED_SCHEMES = ("http", "https")
#: Which proxy variable serves which target scheme.
_PROXY_KIND = {"http": "http", "ws": "http", "https": "https", "wss": "https"}
_ENV_KINDS = ("http", "https", "all")


@attrs.frozen(repr=False)
class ProxyURL:
    """A validated proxy URL whose credentials never print.

    ``repr()``/``str()`` show ``http://****@host:port``; :meth:`reveal` gives
    the URL with its credentials, for the two places that connect.
    """

    _url: URL

    @classmethod
    def parse(cls, raw: object, source: str) -> ProxyURL:
        """Validate ``raw`` (from ``source``: ``proxy=`` or a variable name)."""
        if not isinstance(raw, str) or not raw.strip():
            raise ConfigurationError(f"{source} must be a non-empty proxy URL string")
        try:
            url = URL(raw.strip())
        except ValueError:
            raise ConfigurationError(f"{source} is not a valid URL") from None
        shown = _masked(url)
        if url.scheme.startswith("socks"):
            raise ConfigurationError(
                f"{source}: SOCKS proxies ({shown}) are not supported: use an HTTP(S) proxy"
            )
        if url.scheme not in SUPPORTED_SCHEMES or not url.host:
            raise ConfigurationError(
                f"{source} must be an http:// or https:// proxy URL with a host, got {shown}"
            )
        if url.user is not None and url.password is None:
            # Basic auth needs both; websockets would refuse it only when connecting.
            raise ConfigurationError(f"{source} has a user name but no password: {shown}")
        if url.path not in ("", "/") or url.query_string or url.fragment:
            raise ConfigurationError(f"{source} must not carry a path, query or fragment")
        try:
            url.port  # noqa: B018  (yarl parses the port lazily; a bad one raises here)
        except ValueError:
            raise ConfigurationError(f"{source} has an invalid port") from None
        return cls(url.with_path(""))

    def reveal(self) -> str:
        return str(self._url)

    @property
    def url(self) -> URL:
        return self._url

    def secrets(self) -> tuple[str, ...]:
        """The strings that must be masked wherever a server's text is shown."""
        url = self._url
        if url.password is None and url.user is None:
            return ()
        user, password = url.user or "", url.password or ""
        pair = f"{user}:{password}"
        found = {pair, url.raw_user or "", base64.b64encode(pair.encode()).decode()}
        if url.raw_password:
            found |= {password, url.raw_password, f"{url.raw_user or ''}:{url.raw_password}"}
        return tuple(sorted(s for s in found if s))

    def __repr__(self) -> str:
        return f"ProxyURL({_masked(self._url)!r})"

    __str__ = __repr__


def _masked(url: URL) -> str:
    if url.user is None and url.password is None:
        return str(url)
    return str(url.with_user(None)).replace("://", "://****@", 1)


@attrs.frozen
class ProxyConfig:
    """The client's proxy settings, read once at construction.

    The environment is read when the client is built, like its keys, so the
    REST pool (created later, on first use) and every events connection
    follow the same snapshot.
    """

    explicit: ProxyURL | None = None
    trust_env: bool = False
    env: tuple[tuple[str, ProxyURL], ...] = ()
    no_proxy: str = ""

    @classmethod
    def resolve(cls, proxy: str | None, trust_env: bool, env: Mapping[str, str]) -> ProxyConfig:
        if not isinstance(trust_env, bool):
            raise ConfigurationError(f"trust_env must be a bool, got {trust_env!r}")
        explicit = None if proxy is None else ProxyURL.parse(proxy, "proxy")
        if not trust_env:
            return cls(explicit, False)
        found: list[tuple[str, ProxyURL]] = []
        for kind in _ENV_KINDS:
            name, value = _env_value(env, kind)
            if value:
                # Scheme-less values ("proxy.corp:3128") are common in the
                # environment, and curl and urllib read them as http.
                raw = value if "://" in value else f"http://{value}"
                found.append((kind, ProxyURL.parse(raw, name)))
        no_proxy = env.get("no_proxy", env.get("NO_PROXY", ""))
        return cls(explicit, True, tuple(found), no_proxy)

    def secrets(self) -> tuple[str, ...]:
        proxies = [self.explicit] if self.explicit else []
        proxies += [proxy for _, proxy in self.env]
        return tuple(secret for proxy in proxies for secret in proxy.secrets())


def _env_value(env: Mapping[str, str], kind: str) -> tuple[str, str | None]:
    """``(variable name, value)`` of one kind of proxy, as :mod:`urllib.request` picks it."""
    lower = f"{kind}_proxy"
    if lower in env:  # set, even empty: lowercase wins
        return lower, env[lower]
    upper = lower.upper()
    if kind == "http" and "REQUEST_METHOD" in env:  # httpoxy: CGI sets HTTP_PROXY from a header
        return upper, None
    return upper, env.get(upper)


def select_proxy(config: ProxyConfig, target: URL) -> ProxyURL | None:
    """The proxy for a connection to ``target`` (``http(s)://`` or ``ws(s)://``), or ``None``.

    The single rule for REST and the events stream (see the module docstring).
    """
    if config.explicit is not None:
        return config.explicit
    if not config.trust_env or not target.host:
        return None
    # urllib's matcher (host or host:port, suffixes, "*"), fed our snapshot.
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if config.no_proxy and bypass(f"{target.host}:{target.port}", {"no": config.no_proxy}):
        return None
    proxies = dict(config.env)
    return proxies.get(_PROXY_KIND.get(target.scheme, "http")) or proxies.get("all")


def proxy_for(config: ProxyConfig, target: URL) -> str | None:
    """:func:`select_proxy` as the two libraries take it: the URL with credentials, or ``None``.

    ``None`` matters: it is what stops python-websockets' own environment lookup.
    """
    proxy = select_proxy(config, target)
    return None if proxy is None else proxy.reveal()
