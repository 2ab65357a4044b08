"""Run-time fault controls (``emu.faults``): what goes wrong, where and when.

This module only *decides*; :mod:`._inject` turns a decision into bytes on the
wire. Keeping the two apart lets tests build a :class:`FaultPlan` before the
emulator starts (``Emulator(faults=plan)``) and change it while it runs.

Fault kinds (:class:`FaultKind`, plain strings are accepted everywhere):

``"500"``
    ``500`` with a contract JSON body, ``error.type = "server_error"``.
``"502_html"``
    ``502`` with an HTML page (``text/html``), like an nginx proxy in front.
``"503"``
    ``503`` with a contract JSON body (``server_error``).
``"429"``
    ``429`` ``rate_limited`` with ``Retry-After: <FaultPlan.retry_after>``
    (default ``0``, so retry tests stay fast).
``"reset"``
    The TCP connection is closed without any response: the client sees a
    disconnection (aiohttp: ``ServerDisconnectedError``), never a status.
``"hang"``
    No answer for ``FaultPlan.hang_seconds`` (default one hour) so the client
    times out; then the connection is closed without a response. A hang ends
    at once when the client gives up or the emulator closes.
``"empty_500"``
    ``500`` with an empty body.
``"truncated_json"``
    ``200`` with ``content-type: application/json`` and a cut-off JSON body.

Every fault response except ``reset``/``hang`` carries ``x-request-id``.

Where faults apply: every HTTP route except ``/healthz``. A rule with
``route=None`` matches all of them *except* the ``events`` WebSocket
handshake, which is faulted only by rules that name ``route="events"``
(a handshake answered with a plain ``200`` is a different failure class than
the HTTP faults a chaos test usually wants).

When: ``when="before"`` (default) fails the request before the handler runs;
``when="after"`` runs the handler (side effects happen: a call is placed, a
config is written) and then replaces its answer with the fault. For
``make_call`` the fault point is after auth, validation and registration of
the ``Idempotency-Key`` (so a concurrent retry sees ``idempotency_in_progress``
during injected latency or a hang); a ``before`` fault releases the key again,
because no call was placed.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

When = Literal["before", "after"]

#: Route names used by faults and by ``EmulatorStats.requests``.
ROUTES = (
    "make_call",
    "list_sessions",
    "get_session",
    "events",
    "incoming_call",
    "get_runtime_config",
    "put_runtime_config",
    "healthz",
)


class FaultKind(str, enum.Enum):
    """The injectable failures; the value is the string accepted by the API."""

    SERVER_ERROR = "500"
    BAD_GATEWAY_HTML = "502_html"
    UNAVAILABLE = "503"
    RATE_LIMITED = "429"
    RESET = "reset"
    HANG = "hang"
    EMPTY_500 = "empty_500"
    TRUNCATED_JSON = "truncated_json"


#: Kinds a ``fail_rate`` rule draws from when none are given: the transient
#: ones a retrying client must survive ("hang" is left out because it costs a
#: client timeout per hit).
DEFAULT_RATE_KINDS: tuple[FaultKind, ...] = (
    FaultKind.SERVER_ERROR,
    FaultKind.BAD_GATEWAY_HTML,
    FaultKind.UNAVAILABLE,
    FaultKind.RATE_LIMITED,
    FaultKind.RESET,
)

#: How an events WebSocket is dropped by ``ws_drop_every``: ``"abrupt"`` closes
#: the TCP connection without a close frame (the client sees 1006); the others
#: send a close frame with that code.
WS_DROP_MODES = ("abrupt", "1001", "1011", "1012", "1013")


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request: extra latency, then maybe one fault."""

    kind: FaultKind | None = None
    when: When = "before"
    latency: float = 0.0


@dataclass(frozen=True)
class _Scripted:
    kind: FaultKind
    route: str | None
    when: When


@dataclass
class _RateRule:
    rate: float
    kinds: tuple[FaultKind, ...]
    when: When
    rng: random.Random


def _kind(value: FaultKind | str) -> FaultKind:
    try:
        return FaultKind(value)
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault kind {value!r} (known: {known})") from None


def _route(route: str | None) -> str | None:
    if route is not None and route not in ROUTES:
        raise ValueError(f"unknown route {route!r} (known: {', '.join(ROUTES)})")
    if route == "healthz":
        raise ValueError("faults never apply to healthz")
    return route


def _when(when: str) -> When:
    if when == "before":
        return "before"
    if when == "after":
        return "after"
    raise ValueError(f"when must be 'before' or 'after', not {when!r}")


def _matches(rule_route: str | None, route: str) -> bool:
    if rule_route is None:
        return route not in ("events", "healthz")
    return rule_route == route


class FaultPlan:
    """Scripted, random and latency faults, changeable while the emulator runs.

    Scripted faults win over random ones; latency adds to both.
    """

    def __init__(self, *, retry_after: int = 0, hang_seconds: float = 3600.0) -> None:
        #: Value of the ``Retry-After`` header on injected ``429`` answers.
        self.retry_after = retry_after
        #: How long a ``hang`` lasts if neither the client nor the emulator ends it.
        self.hang_seconds = hang_seconds
        self._script: list[_Scripted] = []
        self._rates: dict[str | None, _RateRule] = {}
        self._latency: dict[str | None, float] = {}
        self._ws_drop: tuple[int, str] | None = None
        self._head_insert = 0

    # -- the control surface used by tests ---------------------------------

    def script(
        self, *kinds: FaultKind | str, route: str | None = None, when: str = "before"
    ) -> None:
        """The next matching requests fail with ``kinds`` in order, then behave."""
        checked_route, checked_when = _route(route), _when(when)
        for kind in kinds:
            self._script.append(_Scripted(_kind(kind), checked_route, checked_when))

    def fail_rate(
        self,
        rate: float,
        kinds: Iterable[FaultKind | str] = DEFAULT_RATE_KINDS,
        route: str | None = None,
        seed: int = 1,
        when: str = "before",
    ) -> None:
        """Fail a random fraction ``rate`` of matching requests (deterministic rng).

        One rule per ``route`` (``None`` = every faultable route); a new call
        replaces the rule for the same route, ``rate=0`` removes it.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        checked_route = _route(route)
        if rate == 0.0:
            self._rates.pop(checked_route, None)
            return
        chosen = tuple(_kind(k) for k in kinds)
        if not chosen:
            raise ValueError("kinds must not be empty")
        self._rates[checked_route] = _RateRule(rate, chosen, _when(when), random.Random(seed))

    def latency(self, seconds: float, route: str | None = None) -> None:
        """Delay every matching request by ``seconds`` (a route's own value wins)."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        checked_route = _route(route)
        if seconds == 0:
            self._latency.pop(checked_route, None)
        else:
            self._latency[checked_route] = float(seconds)

    def ws_drop_every(self, k: int | None, mode: str | int = "abrupt") -> None:
        """Drop each events WebSocket after every ``k`` events sent on it.

        ``k`` of ``0``/``None`` turns it off. ``mode``: see ``WS_DROP_MODES``.
        """
        mode_text = str(mode)
        if mode_text not in WS_DROP_MODES:
            raise ValueError(f"mode must be one of {WS_DROP_MODES}, not {mode!r}")
        if k is not None and k < 0:
            raise ValueError("k must be >= 0")
        self._ws_drop = (k, mode_text) if k else None

    def head_insert_on_page(self, n_per_page: int) -> None:
        """Each ``list_sessions`` request first inserts ``n_per_page`` new sessions."""
        if n_per_page < 0:
            raise ValueError("n_per_page must be >= 0")
        self._head_insert = n_per_page

    def clear(self) -> None:
        """Back to a healthy server (``retry_after``/``hang_seconds`` are kept)."""
        self._script.clear()
        self._rates.clear()
        self._latency.clear()
        self._ws_drop = None
        self._head_insert = 0

    # -- the read side used by the app ------------------------------------

    @property
    def pending(self) -> int:
        """Scripted faults not yet consumed."""
        return len(self._script)

    @property
    def ws_drop(self) -> tuple[int, str] | None:
        return self._ws_drop

    @property
    def head_insert(self) -> int:
        return self._head_insert

    def decide(self, route: str) -> FaultDecision:
        """Consume and return what happens to one request on ``route``."""
        if route == "healthz":
            return FaultDecision()
        latency = self._latency.get(route, self._latency.get(None, 0.0))
        if route == "events" and "events" not in self._latency:
            latency = 0.0
        for index, entry in enumerate(self._script):
            if _matches(entry.route, route):
                del self._script[index]
                return FaultDecision(entry.kind, entry.when, latency)
        rule = self._rates.get(route) or self._rates.get(None)
        applies = rule is not None and (route != "events" or route in self._rates)
        if rule is not None and applies and rule.rng.random() < rule.rate:
            return FaultDecision(rule.rng.choice(rule.kinds), rule.when, latency)
        return FaultDecision(latency=latency)
