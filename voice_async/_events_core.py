"""The live-events protocol, without I/O: what a frame, a seq or a close *means*.

In the spirit of python-websockets (protocol apart from I/O), everything that
decides lives here as pure code that tests can drive with plain values:

* :func:`decode_event` - one text frame to a typed :class:`SessionEvent`;
* :class:`SeqTracker` - exactly-once, in-order delivery: drop duplicates,
  report gaps, remember the ``after_seq`` to resume from;
* :func:`close_action` / :func:`handshake_action` - which closes and handshake
  statuses end the stream, fail it, or call for a reconnect;
* :class:`Reconnector` - how long to wait before the next reconnect, and when
  to give up.  It reuses :class:`RetryPolicy` (full-jitter backoff, the
  ``Retry-After`` ceiling) so HTTP and WebSocket retries behave alike;
* :class:`EventStreamOptions` - every option of a stream, declared and
  validated once (``sessions.events``, ``sessions.watch`` and
  ``EventStream`` all take this one value).

The I/O side (``_events.py``) only moves bytes and sleeps.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable
from typing import Any

import attrs

from ._convert import DECODERS, json_loads, structure
from ._errors import APIResponseValidationError, InvalidRequestError
from ._models import SessionEvent
from ._retry import RetryPolicy, is_retryable_status

__all__ = [
    "ABNORMAL_CLOSURE",
    "Action",
    "EventStreamOptions",
    "Reconnector",
    "SeqTracker",
    "Verdict",
    "close_action",
    "count",
    "decode_event",
    "handshake_action",
]

NORMAL_CLOSURE = 1000
ABNORMAL_CLOSURE = 1006  # no close frame at all: the TCP connection just ended
TRY_AGAIN_LATER = 1013
CLOSE_UNAUTHORIZED = 4001
CLOSE_UNKNOWN_SESSION = 4004

#: Closes that say "this server (instance) went away, the stream did not":
#: going away, no status, abnormal, internal error, service restart, try again
#: later, bad gateway.  Anything else not listed below is final: retrying a
#: policy violation or a too-big message would fail the same way again.
TRANSIENT_CLOSES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1014})


class Action(enum.Enum):
    """What the stream does after a close or a refused handshake."""

    RECONNECT = "reconnect"  # transient: back off, resume from last_seq
    UNAUTHORIZED = "unauthorized"  # final: StreamUnauthorizedError
    NOT_FOUND = "not_found"  # final: SessionNotFoundError
    FAIL = "fail"  # final: EventStreamError


def close_action(code: int) -> Action:
    """Map a close code to what the stream does.

    ``1000`` is *not* the end: the stream ends when ``session.ended`` is
    delivered (the server closes right after it, unread).  A 1000 without it
    -- a proxy's idle cut, a server shutting down politely, a hostile peer --
    is a drop like any other: reconnect and resume after ``last_seq``, so no
    event is lost behind a clean-looking close.  If such closes bring no new
    event, the reconnect limit ends the stream with an error.
    """
    if code == NORMAL_CLOSURE or code in TRANSIENT_CLOSES:
        return Action.RECONNECT
    if code == CLOSE_UNAUTHORIZED:
        return Action.UNAUTHORIZED
    if code == CLOSE_UNKNOWN_SESSION:
        return Action.NOT_FOUND
    return Action.FAIL


def handshake_action(status: int) -> Action:
    """Map an HTTP status that refused the upgrade to what the stream does."""
    if status in (401, 403):
        return Action.UNAUTHORIZED
    if status == 404:
        return Action.NOT_FOUND
    if is_retryable_status(status, None):  # 408, 429, 5xx
        return Action.RECONNECT
    return Action.FAIL


_decode_event: Callable[[object], SessionEvent] = DECODERS[SessionEvent]


def decode_event(frame: str | bytes) -> SessionEvent:
    """One server frame to a typed event; unknown ``type``s decode fine.

    A frame that is not a JSON event at all is a broken server, reported as
    :class:`APIResponseValidationError` (the SDK's "bad data from the API").
    """
    try:
        payload = json_loads(frame)
    except (ValueError, RecursionError) as exc:  # deep nesting raises RecursionError
        text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        raise APIResponseValidationError(
            f"event frame is not valid JSON: {exc}", body_excerpt=text[:200]
        ) from None
    try:
        return _decode_event(payload)  # the generated decoder, unwrapped: once per event
    except Exception:
        pass
    # Outside the handler: ``structure`` fails the same way, typed and explained.
    return structure(payload, SessionEvent)


class Verdict(enum.Enum):
    DELIVER = "deliver"
    DUPLICATE = "duplicate"
    GAP = "gap"


_DELIVER, _DUPLICATE, _GAP = Verdict.DELIVER, Verdict.DUPLICATE, Verdict.GAP


class SeqTracker:
    """Exactly once and in order, given a server that replays from ``after_seq``.

    ``last_seq`` is the seq of the last event handed to the caller: the value
    to resume from (and to persist, to resume in another process).  An event
    at or below it is a duplicate from a replay and is dropped; one beyond
    ``last_seq + 1`` means the server no longer has the events in between (its
    buffer was exceeded), which is reported rather than skipped.

    ``allow_initial_gap`` accepts any first seq of a fresh stream: for
    following a long-running session from what the server still buffers.
    """

    __slots__ = ("_free_start", "duplicates", "last_seq")

    def __init__(self, after_seq: int = 0, *, allow_initial_gap: bool = False) -> None:
        self.last_seq = after_seq
        self.duplicates = 0
        self._free_start = allow_initial_gap

    @property
    def expected_seq(self) -> int:
        return self.last_seq + 1

    def accept(self, seq: int) -> Verdict:
        """Judge the next event's seq, and advance ``last_seq`` if delivered."""
        last = self.last_seq
        if seq == last + 1 or (self._free_start and seq > last):
            self.last_seq = seq
            self._free_start = False
            return _DELIVER
        if seq <= last:
            self.duplicates += 1
            return _DUPLICATE
        return _GAP


class Reconnector:
    """Backoff between reconnects that resets only after a *healthy* connection.

    python-websockets resets its backoff after every successful handshake, so
    a server that accepts and drops at once is hammered in a tight loop.  Here
    a connection is healthy once it stayed open ``healthy_after`` seconds or
    delivered ``healthy_events`` new events: then a reconnect costs little
    next to what the connection carried.  Until then the delay keeps growing
    (full jitter, ``policy.initial_backoff * 2**n`` capped at
    ``policy.max_backoff``), even when each short connection delivered an
    event or two -- otherwise a server that accepts, sends one event and
    drops would be reconnected hundreds of times a second.

    Giving up is a separate count: ``failures`` are consecutive connections
    (and failed handshakes) that delivered nothing new; after
    ``policy.max_retries`` of them :meth:`next_delay` says give up (``None``).
    A stream that keeps making progress is never abandoned, only slowed down.

    After a healthy connection the first reconnect is immediate: a load
    balancer draining or an idle cut is no reason to wait - unless the server
    said "try again later" (1013) or sent ``Retry-After``.
    """

    #: The backoff exponent stops growing here: ``2**n`` stays a small float
    #: (the delay is capped by ``max_backoff`` long before).
    MAX_EXPONENT = 32

    def __init__(
        self,
        policy: RetryPolicy,
        healthy_after: float,
        rng: random.Random,
        healthy_events: int = 100,
    ) -> None:
        self.policy = policy
        self.healthy_after = healthy_after
        self.healthy_events = healthy_events
        self.failures = 0
        self.attempt = 0
        self._rng = rng
        self._opened_at: float | None = None

    def opened(self, now: float) -> None:
        """A connection completed its handshake at ``now``."""
        self._opened_at = now

    def next_delay(
        self,
        now: float,
        *,
        delivered: int = 0,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up.

        ``delivered``: new events the connection that just ended handed out
        (ignored after a failed handshake: no connection ended then).
        """
        opened, self._opened_at = self._opened_at, None
        if opened is None:
            delivered = 0  # a failed handshake delivered nothing, whatever came before
        healthy = opened is not None and (
            now - opened >= self.healthy_after or delivered >= self.healthy_events
        )
        if healthy:
            self.attempt = 0
        if healthy or delivered > 0:
            self.failures = 0
        policy = self.policy
        if retry_after is not None and not retry_after >= 0:
            retry_after = None  # negative or NaN: not a wait the server can mean
        if self.failures >= policy.max_retries:
            return None
        if retry_after is not None and not retry_after <= policy.max_retry_after:
            return None  # the server asks for longer than we accept to wait
        self.failures += 1
        if retry_after is not None:
            delay = retry_after
        elif healthy and code != TRY_AGAIN_LATER:
            delay = 0.0
        else:
            delay = policy.backoff(self.attempt, self._rng)
        self.attempt = min(self.attempt + 1, self.MAX_EXPONENT)
        return delay


# -- options -------------------------------------------------------------------


def seconds(name: str, value: object) -> float:
    """A positive, finite number of seconds (NaN and infinity are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise InvalidRequestError(name, f"must be a positive number of seconds, got {value!r}")
    return float(value)


def count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(name, f"must be an int >= {minimum}, got {value!r}")
    return value


def _seconds(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    seconds(attribute.name, value)


def _optional_seconds(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """``None`` disables the keepalive or timeout, as in python-websockets."""
    if value is not None:
        seconds(attribute.name, value)


def _at_least(minimum: int) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        count(attribute.name, value, minimum)

    return check


def _flag(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidRequestError(attribute.name, f"must be True or False, got {value!r}")


@attrs.frozen
class EventStreamOptions:
    """How a live-events stream keeps alive, reconnects and buffers.

    Declared once, validated when built (a bad value raises
    :class:`InvalidRequestError` before anything connects), and passed as
    ``client.sessions.events(id, options=EventStreamOptions(...))`` or to
    ``sessions.watch``.  How long a handshake may take is the client's (or
    the call's) ``timeout``, as for every HTTP request.

    * ``ping_interval`` / ``ping_timeout``: keepalive; a peer that stops
      answering is treated as a drop (``None`` disables).  A consumer that
      stalls longer than both on one event also stalls the reading of pongs:
      harmless (the new connection resumes), but raise ``ping_timeout`` for
      consumers that block that long.
    * ``close_timeout``: how long a normal close may take.
    * ``max_reconnects``: consecutive reconnects that bring no new event
      before giving up (0 disables reconnecting).
    * ``initial_backoff`` / ``max_backoff``: full-jitter exponential backoff.
    * ``healthy_after`` / ``healthy_events``: a connection that stayed open
      that many seconds, or delivered that many new events, resets the
      backoff (see :class:`Reconnector`).
    * ``max_queue``: frames buffered before the socket stops being read: the
      memory bound for a slow consumer.  ``max_size``: largest frame, bytes.
    * ``compression``: offer permessage-deflate.
    * ``allow_initial_gap``: a fresh stream accepts whatever first seq the
      server still has.
    """

    allow_initial_gap: bool = attrs.field(default=False, validator=_flag)
    ping_interval: float | None = attrs.field(default=20.0, validator=_optional_seconds)
    ping_timeout: float | None = attrs.field(default=20.0, validator=_optional_seconds)
    close_timeout: float | None = attrs.field(default=5.0, validator=_optional_seconds)
    max_reconnects: int = attrs.field(default=10, validator=_at_least(0))
    initial_backoff: float = attrs.field(default=0.5, validator=_seconds)
    max_backoff: float = attrs.field(default=10.0, validator=_seconds)
    healthy_after: float = attrs.field(default=10.0, validator=_seconds)
    healthy_events: int = attrs.field(default=100, validator=_at_least(1))
    max_queue: int = attrs.field(default=16, validator=_at_least(1))
    max_size: int = attrs.field(default=2**20, validator=_at_least(1))
    compression: bool = attrs.field(default=False, validator=_flag)

    def reconnector(self, rng: random.Random) -> Reconnector:
        policy = RetryPolicy(
            max_retries=self.max_reconnects,
            initial_backoff=self.initial_backoff,
            max_backoff=self.max_backoff,
        )
        return Reconnector(policy, self.healthy_after, rng, self.healthy_events)
