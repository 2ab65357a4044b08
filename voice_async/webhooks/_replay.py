"""Replay protection: Twilio signatures carry no timestamp, so remember what was seen."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from .._errors import ConfigurationError
from ._signature import canonical_url


class ReplayCache:
    """Remembers recently accepted signed requests for ``ttl`` seconds.

    A request is identified by what its signature covers: the signature
    itself and the URL it was made for.  Not by ``CallSid``: Twilio signs the
    fields as ``key + value`` run together with no separator, so a captured
    ``CallSid=CA1`` + ``CallStatus=ringing`` can be re-sent as the single
    field ``CallSid=CA1CallStatusringing`` with the *same* valid signature --
    a different ``CallSid``, the same request.  Keying on the signature
    catches every such re-spelling.

    Memory is bounded: at most ``max_entries`` are kept, the oldest dropped
    first.  It is per process: with several workers, a replay may still reach
    another one.
    """

    def __init__(
        self,
        ttl: float = 300.0,
        max_entries: int = 10_000,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or max_entries < 1:
            raise ConfigurationError("ReplayCache needs ttl > 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def __repr__(self) -> str:
        return f"ReplayCache(ttl={self.ttl!r}, max_entries={self.max_entries!r}, size={len(self)})"

    def claim(self, url: str, signature: str) -> bool:
        """Record a verified request; False if it was already seen within ``ttl``.

        ``url`` is the public URL the signature was checked against (its
        ``:443``/``:80`` spelling does not matter, as for the signature).
        """
        now = self._clock()
        self._expire(now)
        key = _key(url, signature)
        if key in self._seen:
            return False
        self._seen[key] = now + self.ttl
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True

    def release(self, url: str, signature: str) -> None:
        """Forget a request, so Twilio's retry of one we failed is accepted."""
        self._seen.pop(_key(url, signature), None)

    def _expire(self, now: float) -> None:
        # Insertion order is expiry order (constant ttl), so stop at the first live one.
        while self._seen:
            key, expires = next(iter(self._seen.items()))
            if expires > now:
                return
            del self._seen[key]


def _key(url: str, signature: str) -> tuple[str, str]:
    try:
        return canonical_url(url), signature
    except ValueError:  # an unparsable port: cannot have verified, key it verbatim
        return url, signature
