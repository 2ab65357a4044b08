"""One description per endpoint, two ways to run it: parsed, or raw.

Each endpoint method is written once, as a *builder*: it validates its
arguments and returns an :class:`Operation` (what to send and how to read
the answer) without sending anything.  :func:`endpoint` turns a builder into
the plain ``async`` method that returns the typed model; :func:`raw` turns
the same method into its ``with_raw_response`` twin, which returns a
:class:`RawResponse` around the same answer.  So the raw variant cannot
drift from the plain one, and adding an endpoint adds one line to its
resource's raw namespace::

    class CallsResource(Resource):
        @endpoint
        def create(self, *, to: str, ...) -> Operation[Call]: ...

    class CallsWithRawResponse(RawNamespace):
        create = raw(CallsResource.create)

``mypy --strict`` sees ``resource.create(...)`` as ``Coroutine[..., Call]``
and ``resource.with_raw_response.create(...)`` as
``Coroutine[..., RawResponse[Call]]``, both with the builder's parameters.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

import attrs

from ._config import Timeout
from ._redact import redact_headers
from ._response import Expect, Response, parse

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

    from ._transport import Auth, Transport

__all__ = ["Operation", "RawNamespace", "RawResponse", "endpoint", "model_result", "raw"]

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
#: Reads a 2xx :class:`Response` into what the plain method returns; the
#: tuple is the client's secrets, for masked errors.
Result = Callable[[Response, tuple[str, ...]], T]


@functools.cache
def model_result(cls: type[T]) -> Result[T]:
    """The :data:`Result` that decodes into ``cls`` (one function per class, made once)."""

    def result(response: Response, secrets: tuple[str, ...]) -> T:
        return parse(response, cls, secrets)

    return result


@attrs.define(slots=True)
class Operation(Generic[T]):
    """One logical call, described: built by a resource, sent by the transport.

    ``template`` is the URL path with ``{name}`` placeholders filled from
    ``path_params`` (already validated); hooks and traces see the template,
    never the ids.  ``name`` is the operation's public name (``"make_call"``,
    ``"sessions.get"``), used for spans.  ``headers`` are the endpoint's own
    (``Idempotency-Key``, ``If-Match``), ``extra_headers`` the caller's.
    """

    name: str
    method: str
    template: str
    auth: Auth
    result: Result[T]
    path_params: Mapping[str, str] | None = None
    params: Mapping[str, str | int] | None = None
    json_body: Any = None
    form: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    extra_headers: Mapping[str, str] | None = None
    timeout: float | Timeout | None = None
    expect: Expect = "json"


@attrs.frozen
class RawResponse(Generic[T_co]):
    """The HTTP answer of a successful call, before (or besides) its typed model.

    ``status``; ``headers``, a read-only case-insensitive multi-dict that keeps
    repeated headers, secrets masked like an error's; ``request_id`` (quote it
    to support); ``elapsed``, the **seconds** (a float, like every duration of
    this SDK) the whole call took, retries and their backoff included;
    ``retries_taken``, how many retries it needed (0: the first attempt
    answered); ``content``, the raw body.  :meth:`parse` returns exactly what
    the plain method returns, and raises the same errors if the body does
    not fit.
    """

    status: int
    headers: CIMultiDictProxy[str]
    request_id: str | None
    elapsed: float
    retries_taken: int
    _response: Response = attrs.field(repr=False, alias="response")
    _result: Result[T_co] = attrs.field(repr=False, alias="result")
    _secrets: tuple[str, ...] = attrs.field(repr=False, alias="secrets")

    @property
    def content(self) -> bytes:
        return self._response.body

    def parse(self) -> T_co:
        return self._result(self._response, self._secrets)


class HasTransport(Protocol):
    _transport: Transport


S = TypeVar("S", bound=HasTransport)


def endpoint(
    build: Callable[Concatenate[S, P], Operation[T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """The plain ``async`` method of a builder: send, then decode the typed model."""

    @functools.wraps(build)
    async def method(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        operation = build(self, *args, **kwargs)
        transport = self._transport
        response = await transport.execute(operation)
        return operation.result(response, transport.secrets)

    method.__voice_build__ = build  # type: ignore[attr-defined]  # read by raw()
    return method


async def send_raw(transport: Transport, operation: Operation[T]) -> RawResponse[T]:
    """Run ``operation`` and wrap its answer, undecoded, in a :class:`RawResponse`."""
    started = time.perf_counter()
    response = await transport.execute(operation)
    secrets = transport.secrets
    return RawResponse(
        response.status,
        redact_headers(response.headers, secrets),
        response.request_id,
        time.perf_counter() - started,
        response.retries_taken,
        response=response,
        result=operation.result,
        secrets=secrets,
    )


class RawNamespace:
    """``resource.with_raw_response``: the resource's endpoints, answering raw."""

    def __init__(self, owner: HasTransport) -> None:
        self._owner = owner


class raw(Generic[P, T]):
    """A :class:`RawNamespace` attribute: the raw twin of an :func:`endpoint` method."""

    def __init__(self, method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]) -> None:
        self._build: Callable[..., Operation[T]] = method.__voice_build__  # type: ignore[attr-defined]
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, namespace: None, owner: type[Any]) -> raw[P, T]: ...

    @overload
    def __get__(
        self, namespace: RawNamespace, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, RawResponse[T]]]: ...

    def __get__(
        self, namespace: RawNamespace | None, owner: type[Any]
    ) -> raw[P, T] | Callable[P, Coroutine[Any, Any, RawResponse[T]]]:
        if namespace is None:
            return self
        target, build = namespace._owner, self._build

        async def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
            return await send_raw(target._transport, build(target, *args, **kwargs))

        return call
