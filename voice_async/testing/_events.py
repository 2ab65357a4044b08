"""Event logs behind the events WebSocket.

Frames are kept (or produced) as pre-serialised JSON text: the WebSocket
handler then does nothing per event but ``send_str``, which is what lets the
emulator stream 200k events quickly. Three sources share one small protocol:

* :class:`EventLog` - live log of a placed/inbound call, appended by the
  simulated lifecycle while clients may be connected.
* :class:`FrameList` - a finished short log (seeded and inserted sessions),
  built only when someone connects.
* :class:`SyntheticLog` - ``n`` events computed from ``seq`` on demand
  (``Emulator.add_event_session``), so 200k events cost no memory.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from typing import Any, Protocol

from ._util import iso_millis


def frame(type_: str, session_id: str, seq: int, ts_ms: int, data: dict[str, Any]) -> str:
    """One server->client text frame."""
    payload = {"type": type_, "session_id": session_id, "seq": seq, "ts": iso_millis(ts_ms)}
    payload["data"] = data
    return json.dumps(payload, separators=(",", ":"))


class EventSource(Protocol):
    """What the WebSocket handler needs from a session's events."""

    @property
    def length(self) -> int:
        """Number of events available now (the highest ``seq``)."""

    @property
    def ended(self) -> bool:
        """True once ``session.ended`` is in the log: nothing more will come."""

    def frame(self, seq: int) -> str:
        """The frame with this ``seq`` (1-based, ``seq <= length``)."""

    async def wait_for_more(self, seen: int) -> None:
        """Return once ``length > seen`` or the log has ended."""


class EventLog:
    """An append-only live log. Keeps every event (the contract asks for >= 1000).

    Memory: once ``session.ended`` is in, the frames are packed into one
    zlib-compressed blob (about a fifth of their size), because an emulator
    that placed 100k calls would otherwise hold ~3 KB of JSON text per call
    that almost nobody reads again. A later reader unpacks them on demand
    (:meth:`frame`), and only that log stays unpacked.
    """

    __slots__ = ("_ended", "_frames", "_packed", "_waiters")

    def __init__(self) -> None:
        self._frames: list[str] | None = []
        self._packed = b""
        self._ended = False
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def length(self) -> int:
        return len(self._unpacked())

    @property
    def ended(self) -> bool:
        return self._ended

    def frame(self, seq: int) -> str:
        return self._unpacked()[seq - 1]

    def _unpacked(self) -> list[str]:
        if self._frames is None:
            # Frames are compact JSON: a newline never occurs inside one.
            self._frames = zlib.decompress(self._packed).decode().split("\n")
        return self._frames

    def append(self, session_id: str, type_: str, data: dict[str, Any]) -> int:
        """Append one event stamped now; returns its ``seq``."""
        if self._ended:
            raise RuntimeError("event log already ended")
        frames = self._unpacked()
        seq = len(frames) + 1
        frames.append(frame(type_, session_id, seq, int(time.time() * 1000), data))
        if type_ == "session.ended":
            self._ended = True
        self._wake()
        if self._ended:
            self._packed = zlib.compress("\n".join(frames).encode())
            self._frames = None
        return seq

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for_more(self, seen: int) -> None:
        if self.length > seen or self._ended:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class FrameList:
    """A complete, already-ended list of frames."""

    def __init__(self, frames: list[str]) -> None:
        self._frames = frames

    @property
    def length(self) -> int:
        return len(self._frames)

    @property
    def ended(self) -> bool:
        return True

    def frame(self, seq: int) -> str:
        return self._frames[seq - 1]

    async def wait_for_more(self, seen: int) -> None:
        return None


class SyntheticLog:
    """``n_events`` computed from ``seq``: started, n-2 transcript partials, ended.

    Middle frames come from a %-format template (no ``json.dumps``) and share
    a cached second prefix for ``ts``: per-event work stays a few string ops.
    """

    _TEMPLATE = (
        '{"type":"transcript.partial","session_id":"%s","seq":%d,"ts":"%s%03dZ",'
        '"data":{"role":"%s","text":"word %d"}}'
    )
    _ROLES = ("agent", "caller")

    def __init__(
        self,
        session_id: str,
        n_events: int,
        start_ms: int,
        started: dict[str, Any],
        ended: dict[str, Any],
    ) -> None:
        if n_events < 1:
            raise ValueError("n_events must be >= 1")
        self._session_id = session_id
        self._n = n_events
        self._start_ms = start_ms
        self._started = started
        self._ended = ended
        self._cached_second = -1
        self._cached_prefix = ""

    @property
    def length(self) -> int:
        return self._n

    @property
    def ended(self) -> bool:
        return True

    def frame(self, seq: int) -> str:
        if seq == self._n:
            ts_ms = self._start_ms + seq
            return frame("session.ended", self._session_id, seq, ts_ms, self._ended)
        if seq == 1:
            return frame(
                "session.started", self._session_id, seq, self._start_ms + 1, self._started
            )
        second, millis = divmod(self._start_ms + seq, 1000)
        if second != self._cached_second:
            self._cached_second = second
            self._cached_prefix = iso_millis(second * 1000)[:-4]
        return self._TEMPLATE % (
            self._session_id,
            seq,
            self._cached_prefix,
            millis,
            self._ROLES[seq & 1],
            seq,
        )

    async def wait_for_more(self, seen: int) -> None:
        return None
