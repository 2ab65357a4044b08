"""The handler's options, defined and checked in one place.

:func:`twilio_inbound_handler`, :func:`twilio_inbound_app` and
:class:`TwilioInboundHandler` all take exactly these, so they are declared
once, here, and the two factories borrow this class's signature (see
:func:`with_options`) instead of repeating it.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Sequence
from typing import Any, Literal, ParamSpec, TypeVar
from urllib.parse import urlsplit

import attrs
from yarl import URL

from .._client import AsyncVoiceClient
from .._config import DEFAULT_BASE_URL, ENV_BASE_URL, check_base_url
from .._errors import ConfigurationError
from ._replay import ReplayCache
from ._signature import AuthTokens

INCOMING_CALL_PATH = "/api/v1/incoming-call"
DEFAULT_PATH = "/twilio/voice"
#: Twilio gives up on a webhook after 15 s; answering 502 before that is clearer.
DEFAULT_FORWARD_TIMEOUT = 10.0

Mode = Literal["redirect", "proxy"]


def _auth_tokens(value: AuthTokens | str | Sequence[str] | None) -> AuthTokens:
    return AuthTokens.resolve(value)


def _check_mode(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if value not in ("redirect", "proxy"):
        raise ConfigurationError(f"mode must be 'redirect' or 'proxy', got {value!r}")


def _check_public_url(_: object, __: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"public_url must be an absolute http(s) URL, got {value!r}")


def _check_timeout(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigurationError("forward_timeout must be a positive number of seconds")


def _check_path(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigurationError(f"path must start with '/', got {value!r}")


def _is(kind: type) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, kind):
            raise ConfigurationError(f"{attribute.name} must be a {kind.__name__} or None")

    return check


@attrs.frozen
class TwilioInboundOptions:
    """How a :class:`TwilioInboundHandler` checks and hands on Twilio's webhook.

    * ``auth_token``: the Twilio auth token, or a list of them while rotating;
      default ``TWILIO_AUTH_TOKEN``.  Never shown by ``repr`` or in logs.
    * ``forward_to``: where StateSet is.  A base URL (``https://voice.stateset.app``)
      gets ``/api/v1/incoming-call`` appended; a URL with a path -- the
      incoming-call URL itself, or any other endpoint -- is used exactly as
      given.  Default: ``client``'s base URL, else ``STATESET_VOICE_BASE_URL``,
      else the hosted service (these are base URLs).
    * ``public_url``, ``trust_forwarded``: how to rebuild the URL Twilio
      signed (see :func:`public_request_url`).
    * ``mode``: ``"redirect"`` (307 to the target) or ``"proxy"`` (forward
      the form and return StateSet's TwiML).
    * ``client``: the :class:`AsyncVoiceClient` to forward through in proxy
      mode (never closed by the handler).
    * ``replay_cache``: a :class:`ReplayCache` to reject replayed requests.
    * ``allow_insecure_http``: permit a plain ``http://`` non-loopback target.
    * ``forward_timeout``: seconds before a proxied forward gives up (502).
    * ``path``: the route :meth:`TwilioInboundHandler.mount` and
      :func:`twilio_inbound_app` use.

    Everything is checked here, so a bad option fails at startup with a
    :class:`~voice_async.ConfigurationError`, not on the first inbound call.
    """

    auth_token: AuthTokens = attrs.field(default=None, converter=_auth_tokens)
    # Only auth_token may be passed positionally; every other option by name.
    forward_to: str | None = attrs.field(default=None, kw_only=True)
    public_url: str | None = attrs.field(default=None, kw_only=True, validator=_check_public_url)
    mode: Mode = attrs.field(default="redirect", kw_only=True, validator=_check_mode)
    trust_forwarded: bool = attrs.field(default=False, kw_only=True)
    client: AsyncVoiceClient | None = attrs.field(
        default=None, kw_only=True, validator=_is(AsyncVoiceClient)
    )
    replay_cache: ReplayCache | None = attrs.field(
        default=None, kw_only=True, validator=_is(ReplayCache)
    )
    allow_insecure_http: bool = attrs.field(default=False, kw_only=True)
    forward_timeout: float = attrs.field(
        default=DEFAULT_FORWARD_TIMEOUT, kw_only=True, validator=_check_timeout
    )
    path: str = attrs.field(default=DEFAULT_PATH, kw_only=True, validator=_check_path)
    #: The URL requests are redirected or forwarded to, resolved once.
    target: URL = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # After the validators, so resolving the target can trust the other fields.
        object.__setattr__(self, "target", _target(self))


def _target(options: TwilioInboundOptions) -> URL:
    client, forward_to = options.client, options.forward_to
    if client is not None:
        target = _incoming_call(client.config.base_url)  # already vetted by the client
        agrees = (client.config.base_url, target)
        if forward_to is not None and _vet(forward_to, True) not in agrees:
            raise ConfigurationError("forward_to and client.base_url disagree; pass one of them")
        return target
    if forward_to is not None:
        given = _vet(forward_to, options.allow_insecure_http)
        # A bare origin is StateSet's base URL; any path is where the caller wants it.
        return _incoming_call(given) if given.path in ("", "/") else given
    base = os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return _incoming_call(_vet(base, options.allow_insecure_http, ENV_BASE_URL))


def _incoming_call(base: URL) -> URL:
    return base.with_path(base.path.rstrip("/") + INCOMING_CALL_PATH)


def _vet(raw: str, allow_insecure_http: bool, name: str = "forward_to") -> URL:
    """https (or loopback http), no query string: Twilio's form must not travel in clear."""
    if not isinstance(raw, str):
        raise ConfigurationError(f"{name} must be a URL string, got {type(raw).__name__}")
    try:
        return check_base_url(raw, allow_insecure_http=allow_insecure_http)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None


P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


def with_options(
    options_type: Callable[P, T],
) -> Callable[[Callable[[T], R]], Callable[P, R]]:
    """Decorate ``build(options)`` so callers pass the options' own arguments.

    The decorated function has the exact signature of ``options_type``, for
    type checkers (through ``ParamSpec``) and for ``help()`` and IDEs
    (through ``__signature__``).  This is what lets the handler factory and
    the app factory share :class:`TwilioInboundOptions` instead of each
    spelling its ten arguments: adding an option is a one-line change there.
    """

    def decorate(build: Callable[[T], R]) -> Callable[P, R]:
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return build(options_type(*args, **kwargs))

        functools.update_wrapper(call, build)
        returns = inspect.signature(build).return_annotation
        signature = inspect.signature(options_type).replace(return_annotation=returns)
        call.__signature__ = signature  # type: ignore[attr-defined]
        return call

    return decorate
