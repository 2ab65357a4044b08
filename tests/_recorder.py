"""A hook that records every info object it is given (for event-hook tests)."""

from __future__ import annotations

from typing import Any


class Recorder:
    """An async hook callable: ``event_hooks=recorder.hooks("request", ...)``."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    async def __call__(self, info: object) -> None:
        self.seen.append(info)

    def hooks(self, *names: str) -> dict[str, list[Recorder]]:
        return {name: [self] for name in names}

    def of(self, cls: type[Any]) -> list[Any]:
        """The infos of one type, in the order they came."""
        return [i for i in self.seen if isinstance(i, cls)]
