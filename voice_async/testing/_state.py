"""Everything a running emulator knows, in one object the handlers share."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from ._faults import FaultPlan
from ._limits import TenantLimits
from ._store import IdempotencyStore, RuntimeConfigStore, SessionStore

ListShape = Literal["envelope", "bare", "sessions", "items"]
LIST_SHAPES: tuple[ListShape, ...] = ("envelope", "bare", "sessions", "items")


@dataclass
class EmulatorStats:
    """Counters tests assert on (e.g. "the retry placed no second call")."""

    #: Outbound calls created by make-call (idempotent replays excluded).
    calls_placed: int = 0
    #: Inbound sessions created by incoming-call (Twilio retries excluded).
    inbound_calls: int = 0
    #: make-call answers served from the idempotency store.
    idempotent_replays: int = 0
    #: Events WebSocket handshakes accepted (including those closed 4001/4004).
    ws_connects: int = 0
    #: Events WebSockets dropped by ``faults.ws_drop_every``.
    ws_drops: int = 0
    #: Requests per route name, faulted ones included (``"unknown"`` = no route).
    requests: Counter[str] = field(default_factory=Counter)
    #: Faults actually injected, per kind value.
    faults_injected: Counter[str] = field(default_factory=Counter)


@dataclass
class EmulatorState:
    api_key: str
    admin_key: str
    tenant_id: str
    seed: int
    event_interval: float
    list_shape: ListShape
    faults: FaultPlan
    sessions: SessionStore
    stats: EmulatorStats = field(default_factory=EmulatorStats)
    idempotency: IdempotencyStore = field(default_factory=IdempotencyStore)
    configs: RuntimeConfigStore = field(default_factory=RuntimeConfigStore)
    limits: TenantLimits = field(default_factory=TenantLimits)
    #: Seconds a client may take to send a request head, and again its body.
    read_timeout: float = 10.0
    #: Inbound sessions (``POST /incoming-call``, unauthenticated) kept at most.
    inbound_limit: int = 10_000
    base_url: str = ""
    call_counter: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
