"""A campaign's journal: one JSON object per line, appended, repaired on resume.

Durability (the fsync policy):

* Each outcome is written with a single ``write()`` of one whole line to a
  file opened ``O_APPEND``, before the result is handed to the caller.  A
  process killed at any moment (``kill -9``) therefore leaves every line it
  wrote: the kernel holds them.  At worst the very last line is torn (a full
  disk, a crash inside ``write``); :func:`repair_tail` cuts it on resume.
* ``fsync`` runs at most once per ``fsync_interval`` (1 s) in a worker thread,
  and on close.  A power loss can lose up to that last second of lines.
  Nothing is dialled twice because of it: those rows are sent again with the
  same ``Idempotency-Key`` and the server answers with the original call.

On resume the keys already recorded are loaded into memory (a dict and a
set of strings: about 100 bytes a row), which is what lets a rerun skip them
without asking the server.

The first line names the campaign, so a journal cannot be resumed by another
campaign by mistake.  A journal is used by one run at a time (an advisory
``flock`` says so to a second process).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from ._campaign_core import (
    JOURNAL_KIND,
    CampaignResult,
    CampaignSummary,
    entry_line,
    header_line,
)
from ._errors import InvalidRequestError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FSYNC_INTERVAL = 1.0


def repair_tail(handle: BinaryIO) -> int:
    """Truncate an open file after its last newline (dropping a torn last line).

    Returns how many bytes were dropped.  Reads only the tail, so it is cheap
    for a journal of millions of lines.
    """
    end = handle.seek(0, os.SEEK_END)
    position = end
    while position > 0:
        step = min(65536, position)
        handle.seek(position - step)
        chunk = handle.read(step)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            good = position - step + newline + 1
            break
        position -= step
    else:
        good = 0
    if good < end:
        handle.truncate(good)
    return end - good


def read_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every whole line of a journal file.

    A torn last line (no newline) is ignored; a bad line anywhere else means
    the file is not a journal, which is an error rather than data to skip.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.endswith(b"\n"):
                return
            try:
                value = json.loads(raw)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise InvalidRequestError("journal", f"{path}: line {number} is not a JSON object")
            yield number, value


@attrs.frozen
class Recorded:
    """What a journal already says about the rows (loaded before a rerun)."""

    campaign_id: str | None
    #: row key -> session id, for rows already placed.
    placed: dict[str, str | None]
    #: row keys recorded failed (and not placed later).
    failed: set[str]


def load(path: str | os.PathLike[str]) -> Recorded:
    """Read a journal's header and final outcomes (the last line per key wins)."""
    campaign_id: str | None = None
    placed: dict[str, str | None] = {}
    failed: set[str] = set()
    for number, line in read_lines(path):
        if number == 1 and line.get("journal") == JOURNAL_KIND:
            campaign_id = str(line.get("campaign_id"))
            continue
        key, outcome = line.get("key"), line.get("outcome")
        if not isinstance(key, str):
            raise InvalidRequestError("journal", f"{path}: line {number} has no row key")
        if outcome == "placed":
            placed[key] = line.get("session_id")
            failed.discard(key)
        elif outcome == "failed" and key not in placed:
            failed.add(key)
    return Recorded(campaign_id, placed, failed)


def summarize(path: str | os.PathLike[str]) -> tuple[str | None, CampaignSummary]:
    """The campaign id and the summary of a journal's final outcomes (last per key)."""
    campaign_id: str | None = None
    last: dict[str, dict[str, Any]] = {}
    for number, line in read_lines(path):
        if number == 1 and line.get("journal") == JOURNAL_KIND:
            campaign_id = str(line.get("campaign_id"))
            continue
        key = line.get("key")
        if isinstance(key, str) and last.get(key, {}).get("outcome") != "placed":
            last[key] = line  # a later line wins, except over a placed call
    summary = CampaignSummary()
    for line in last.values():
        summary.add_line(line)
    return campaign_id, summary


class Journal:
    """The append side: open (repairing the tail), write lines, fsync, close."""

    def __init__(self, path: str | os.PathLike[str], campaign_id: str) -> None:
        self.path = Path(path)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._file: BinaryIO = os.fdopen(fd, "r+b", buffering=0)
        try:
            self._lock()
            self.repaired = repair_tail(self._file)
            self.recorded = load(self.path)
            self._check_campaign(campaign_id)
        except BaseException:
            self._file.close()
            raise
        self._last_sync = time.monotonic()
        self._syncing: asyncio.Future[None] | None = None
        self.appended = 0

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InvalidRequestError(
                "journal", f"{self.path} is in use by another running campaign"
            ) from None

    def _check_campaign(self, campaign_id: str) -> None:
        found = self.recorded.campaign_id
        if found is None and self._file.seek(0, os.SEEK_END) == 0:
            self._write(header_line(campaign_id))
        elif found is None:
            raise InvalidRequestError("journal", f"{self.path} is not a campaign journal")
        elif found != campaign_id:
            raise InvalidRequestError(
                "journal", f"{self.path} belongs to campaign {found!r}, not {campaign_id!r}"
            )

    def _write(self, line: dict[str, Any]) -> None:
        data = (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        os.write(self._file.fileno(), data)  # one write of one whole line (O_APPEND)

    def append(self, result: CampaignResult) -> None:
        """Record one final outcome; fsync in the background at most once a second."""
        self._write(entry_line(result))
        self.appended += 1
        now = time.monotonic()
        if now - self._last_sync >= FSYNC_INTERVAL and self._syncing is None:
            self._last_sync = now
            self._syncing = asyncio.ensure_future(asyncio.to_thread(os.fsync, self._file.fileno()))
            self._syncing.add_done_callback(self._synced)

    def _synced(self, future: asyncio.Future[None]) -> None:
        self._syncing = None
        if not future.cancelled():
            future.exception()  # an fsync error is retried by the next sync or close

    async def aclose(self) -> None:
        if self._file.closed:
            return
        if self._syncing is not None:
            with contextlib.suppress(Exception):
                await self._syncing
        try:
            await asyncio.to_thread(os.fsync, self._file.fileno())
        finally:
            self._file.close()
