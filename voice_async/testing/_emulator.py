"""The :class:`Emulator`: a local StateSet Voice API on a real loopback socket.

It shares nothing with the SDK but the wire contract (the routes, envelopes,
error shape, close codes and idempotency rules written down in
``docs/wire-contract.md``), so SDK tests against it exercise real HTTP,
WebSocket and failure behaviour rather than the SDK's own assumptions.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from types import TracebackType

from aiohttp import web

from ._app import build_app
from ._conn import GuardedRunner
from ._faults import FaultPlan
from ._lifecycle import add_event_session, insert_synthetic
from ._limits import TenantLimits
from ._seed import SeededSessions
from ._state import LIST_SHAPES, EmulatorState, EmulatorStats, ListShape
from ._store import SessionStore

_SHUTDOWN_TIMEOUT = 2.0


def _check_shape(shape: str) -> ListShape:
    if shape not in LIST_SHAPES:
        raise ValueError(f"list_shape must be one of {LIST_SHAPES}, not {shape!r}")
    return shape


class Emulator:
    """A running-on-demand StateSet Voice API.

    ``async with Emulator(sessions=1000) as emu:`` then point a client at
    ``emu.base_url`` with ``emu.api_key`` / ``emu.admin_key``. ``port=0`` picks
    a free port. Everything is deterministic given ``seed`` except timestamps
    and the ids that encode them.

    Limits that keep a long-running emulator healthy: a client must send a
    request head (and then its body) within ``read_timeout`` seconds; an idle
    kept-alive connection is closed after ``idle_timeout`` seconds (longer than
    aiohttp's client-side 15 s, so pooled clients never race a server close);
    at most ``inbound_limit`` sessions are created by the unauthenticated
    incoming-call webhook (``429`` after that).
    """

    def __init__(
        self,
        sessions: int = 0,
        seed: int = 0,
        api_key: str | None = None,
        admin_key: str | None = None,
        tenant_id: str = "tn_emulator",
        event_interval: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        list_shape: str = "envelope",
        faults: FaultPlan | None = None,
        rate_limit: float | None = None,
        max_active_calls: int | None = None,
        call_duration: tuple[float, float] | None = None,
        read_timeout: float = 10.0,
        idle_timeout: float = 30.0,
        inbound_limit: int = 10_000,
    ) -> None:
        if event_interval < 0:
            raise ValueError("event_interval must be >= 0")
        if read_timeout <= 0 or idle_timeout <= 0:
            raise ValueError("read_timeout and idle_timeout must be > 0")
        if inbound_limit < 0:
            raise ValueError("inbound_limit must be >= 0")
        self._idle_timeout = idle_timeout
        anchor = int(time.time())
        rng = random.Random(seed)
        self.host, self._port = host, port
        self._state = EmulatorState(
            api_key=api_key or "sk_test_" + secrets.token_urlsafe(24),
            admin_key=admin_key or "sk_admin_" + secrets.token_urlsafe(24),
            tenant_id=tenant_id,
            seed=seed,
            event_interval=event_interval,
            list_shape=_check_shape(list_shape),
            faults=faults or FaultPlan(),
            sessions=SessionStore(SeededSessions(sessions, seed, anchor, tenant_id), anchor, rng),
            read_timeout=read_timeout,
            inbound_limit=inbound_limit,
        )
        self._state.configs.add_tenant(tenant_id)
        self._state.limits = TenantLimits(rate_limit, max_active_calls, call_duration)
        self._runner: web.AppRunner | None = None
        self._shutdown: asyncio.Future[None] | None = None

    # -- identity ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if not self._state.base_url:
            raise RuntimeError("the emulator is not started (use `async with` or start())")
        return self._state.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def api_key(self) -> str:
        return self._state.api_key

    @property
    def admin_key(self) -> str:
        return self._state.admin_key

    @property
    def tenant_id(self) -> str:
        return self._state.tenant_id

    @property
    def stats(self) -> EmulatorStats:
        return self._state.stats

    @property
    def faults(self) -> FaultPlan:
        return self._state.faults

    @property
    def limits(self) -> TenantLimits:
        """Tenant limits and their counters (see :mod:`._limits`)."""
        return self._state.limits

    # -- behaviour knobs (changeable while running) ------------------------

    @property
    def list_shape(self) -> str:
        return self._state.list_shape

    @list_shape.setter
    def list_shape(self, shape: str) -> None:
        self._state.list_shape = _check_shape(shape)

    @property
    def event_interval(self) -> float:
        return self._state.event_interval

    @event_interval.setter
    def event_interval(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("event_interval must be >= 0")
        self._state.event_interval = seconds

    # -- data ---------------------------------------------------------------

    def insert_sessions(self, n: int) -> list[str]:
        """Add ``n`` finished sessions at the head (newest first in lists); their ids."""
        if n < 0:
            raise ValueError("n must be >= 0")
        return insert_synthetic(self._state, n)

    def add_event_session(self, n_events: int, *, status: str = "completed") -> str:
        """A finished session whose events log has ``n_events`` events (computed lazily,
        ending with ``session.ended``); returns its id."""
        return add_event_session(self._state, n_events, status)

    def add_tenant(self, tenant_id: str) -> None:
        """Make ``tenant_id`` known to the admin endpoints (default config, version 1)."""
        self._state.configs.add_tenant(tenant_id)

    def session(self, session_id: str) -> dict[str, object] | None:
        """The stored session, as ``GET /voice-sessions/{id}`` would return it."""
        found = self._state.sessions.get(session_id)
        return None if found is None else dict(found)

    @property
    def total_sessions(self) -> int:
        return self._state.sessions.total

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> Emulator:
        if self._runner is not None or self._shutdown is not None:
            raise RuntimeError("an Emulator can be started only once")
        runner = GuardedRunner(
            build_app(self._state),
            read_timeout=self._state.read_timeout,
            keepalive_timeout=self._idle_timeout,
            # After an early answer (a 408, a 401 to a big upload) aiohttp keeps
            # reading the unread body this long before closing: no slowloris there.
            lingering_time=self._state.read_timeout,
            handler_cancellation=True,  # a client that gives up ends a hang/latency
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
            access_log=None,
        )
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._state.base_url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        """Stop serving: end hangs and streams, cancel call simulations.

        Idempotent, and concurrent calls all wait for the same shutdown.
        """
        if self._shutdown is None:
            self._shutdown = asyncio.ensure_future(self._close())
        await asyncio.shield(self._shutdown)

    async def _close(self) -> None:
        state = self._state
        state.closing.set()
        tasks = list(state.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def serve_forever(self) -> None:
        """Wait until :meth:`close` is called (from a signal handler, for example)."""
        await self._state.closing.wait()

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        where = self._state.base_url or "not started"
        return f"<Emulator {where} tenant={self.tenant_id!r}>"
