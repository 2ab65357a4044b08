"""Local emulator of the StateSet Voice API, for tests and offline development.

    from voice_async.testing import Emulator

    async with Emulator(sessions=1000, seed=1) as emu:
        ...  # emu.base_url, emu.api_key, emu.admin_key, emu.faults, emu.stats

The emulator is a separate room from the SDK: it imports nothing from the
client side of ``voice_async`` and speaks only the wire contract. Names are
loaded lazily so that importing ``voice_async.testing.plugin`` (which pytest
does for every run once the package is installed) does not import aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._faults import (
        DEFAULT_RATE_KINDS,
        ROUTES,
        WS_DROP_MODES,
        FaultDecision,
        FaultKind,
        FaultPlan,
    )
    from ._state import LIST_SHAPES, EmulatorStats

__all__ = [
    "DEFAULT_RATE_KINDS",
    "LIST_SHAPES",
    "ROUTES",
    "WS_DROP_MODES",
    "Emulator",
    "EmulatorStats",
    "FaultDecision",
    "FaultKind",
    "FaultPlan",
]

_HOMES = {
    "Emulator": "._emulator",
    "EmulatorStats": "._state",
    "LIST_SHAPES": "._state",
    "FaultPlan": "._faults",
    "FaultKind": "._faults",
    "FaultDecision": "._faults",
    "DEFAULT_RATE_KINDS": "._faults",
    "ROUTES": "._faults",
    "WS_DROP_MODES": "._faults",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
