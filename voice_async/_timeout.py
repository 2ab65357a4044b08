"""The :class:`Timeout` value, apart so that validation and configuration can share it."""

from __future__ import annotations

import attrs

DEFAULT_CONNECT_TIMEOUT = 10.0


@attrs.frozen
class Timeout:
    """Per-attempt timeouts in seconds (``None`` disables one).

    ``total`` bounds one HTTP attempt from connect to the last body byte;
    ``connect`` bounds getting a connection (pool wait included).  The overall
    ``deadline`` of :class:`ClientConfig` bounds all attempts of one call
    together, retries and backoff included.
    """

    total: float | None = 60.0
    connect: float | None = DEFAULT_CONNECT_TIMEOUT
