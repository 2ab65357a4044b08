"""An SDK call's outcome as a value: its result or its typed error, never a hang.

The hostile and reliability suites call the SDK against servers built to
break it and then assert on whatever came back.  Returning the
:class:`~voice_async.VoiceError` (rather than raising it) lets one assertion
check the type and the message; anything else -- a raw ``aiohttp`` or
``OverflowError`` -- escapes and fails the test, which is the point.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from voice_async import VoiceError


async def outcome_within(awaitable: Awaitable[Any], limit: float) -> Any:
    """The result or the SDK's error within ``limit`` seconds; a hang fails the test."""
    try:
        return await asyncio.wait_for(awaitable, limit)
    except asyncio.TimeoutError:
        pytest.fail(f"the SDK call hung for {limit} s")
    except VoiceError as exc:
        return exc
