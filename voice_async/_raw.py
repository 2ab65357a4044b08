"""Every endpoint written once, run two ways: parsed, or raw.

An endpoint method validates its arguments, describes the request as an
:class:`Operation` (method, URL template, body, how to read the answer) and
ends with ``return await self._run(operation)``.  ``_run`` is the one thing
that differs between the two ways: on a resource it is ``Transport.run``
(send, then decode the typed model); on the resource's ``with_raw_response``
view it is :func:`send_raw`, which returns a :class:`RawResponse` around the
same answer.  So the raw variant reuses the method's body and cannot drift
from it, and exposing an endpoint raw is one line::

    class CallsResource(Resource):
        async def create(self, *, to: str, ...) -> Call:
            ...
            return await self._run(Operation("make_call", "POST", ...))

    class CallsWithRawResponse(RawNamespace):
        create = raw(CallsResource.create)

``mypy --strict`` types ``resource.with_raw_response.create(...)`` as
``Coroutine[..., RawResponse[Call]]`` with ``create``'s parameters.  The
plain path costs nothing extra: one attribute lookup of ``self._run``.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    Protocol,
    TypeVar,
    cast,
    overload,
)

import attrs
from multidict import CIMultiDictProxy

from ._config import Timeout
from ._convert import DECODERS
from ._redact import redact_headers
from ._response import Expect, Response, parse

if TYPE_CHECKING:
    from ._transport import Auth, Transport

__all__ = [
    "Operation",
    "RawNamespace",
    "RawResponse",
    "Resource",
    "Run",
    "Runner",
    "model_result",
    "raw",
    "send_raw",
]

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
#: Reads a 2xx :class:`Response` into what the plain method returns; the
#: tuple is the client's secrets, for masked errors.
Result = Callable[[Response, tuple[str, ...]], T]


@functools.cache
def model_result(cls: type[T]) -> Result[T]:
    """The :data:`Result` that decodes into ``cls`` (one function per class, made once).

    Calls the model's generated decoder itself, once per call; only when it
    fails does :func:`parse` decode again to build the masked, typed error.
    """
    decode = DECODERS.get(cls)
    if decode is None:
        return functools.partial(_parse_into, cls)

    def result(response: Response, secrets: tuple[str, ...]) -> T:
        try:
            return decode(response.data)  # type: ignore[no-any-return]
        except Exception:
            pass
        return parse(response, cls, secrets)  # outside the handler: raises the typed error

    return result


def _parse_into(cls: type[T], response: Response, secrets: tuple[str, ...]) -> T:
    return parse(response, cls, secrets)


@attrs.define(slots=True)
class Operation(Generic[T]):
    """One logical call, described: built by a resource, sent by the transport.

    ``template`` is the URL path with ``{name}`` placeholders filled from
    ``path_params`` (already validated); hooks and traces see the template,
    never the ids.  ``name`` is the operation's public name (``"make_call"``,
    ``"sessions.get"``), used for spans.  ``idempotency_key`` is sent as
    ``Idempotency-Key`` and makes a POST safe to retry; ``headers`` are the
    endpoint's other headers (``If-Match``), ``extra_headers`` the caller's.
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
    idempotency_key: str | None = None


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


class Run(Protocol):
    """``Transport.run``: send an operation, return its decoded result."""

    def __call__(self, operation: Operation[T], /) -> Coroutine[Any, Any, T]: ...


class Runner(Protocol):
    """What an endpoint method needs of ``self``: a way to run an operation."""

    _run: Run


class Resource:
    """Base of the resource namespaces (``client.calls``, ``client.admin``...)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._run: Run = transport.run


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
    """``owner.with_raw_response``: ``owner``'s endpoint methods, answering raw.

    They run on a shallow copy of ``owner`` whose ``_run`` is :func:`send_raw`:
    same body, same transport, same pool.
    """

    def __init__(self, owner: Runner) -> None:
        view = copy.copy(owner)
        transport: Transport = owner._transport  # type: ignore[attr-defined]
        view._run = cast(Run, functools.partial(send_raw, transport))
        self._view = view


class raw(Generic[P, T]):  # lower case: used like ``property``
    """A :class:`RawNamespace` attribute: the raw twin of an endpoint method."""

    def __init__(self, method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]) -> None:
        self._method = method
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
        # On the view, ``_run`` answers a RawResponse where the method says T.
        return cast(
            "Callable[P, Coroutine[Any, Any, RawResponse[T]]]",
            functools.partial(self._method, namespace._view),
        )
