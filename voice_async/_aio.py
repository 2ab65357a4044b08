"""Small asyncio helpers shared by the client's resources."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="AsyncClosing")


class AsyncClosing:
    """Mixin: ``async with obj:`` closes it with ``await obj.aclose()`` on exit.

    One definition of the context-manager protocol for everything in the SDK
    that owns connections or tasks and must release them deterministically.
    """

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _T) -> _T:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
