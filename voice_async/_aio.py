"""Small asyncio helpers shared by the client's resources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="AsyncClosing")
T = TypeVar("T")


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


def _nothing_ready() -> None:
    return None


async def drain(
    step: Callable[[], Awaitable[T]],
    stop: Callable[[], Awaitable[None]],
    ready: Callable[[], T | None] = _nothing_ready,
) -> AsyncIterator[T]:
    """``async for`` over ``step()`` until ``StopAsyncIteration``; ``stop()`` when left.

    An async generator, so leaving the loop early (``break``, ``return``, an
    exception in the body) is seen without ``__del__``: the event loop's
    async-generator finalizer closes the abandoned generator soon after
    (``loop.shutdown_asyncgens()`` at the latest), which runs ``finally``.
    ``ready()`` is the synchronous fast path: an item it returns is yielded
    without a coroutine for ``step()`` (a page's sessions, one by one).
    """
    try:
        while True:
            item = ready()
            if item is None:
                try:
                    item = await step()
                except StopAsyncIteration:
                    return
            yield item
    finally:
        await stop()
