"""The export's progress sidecar (FILE.progress.json): how far FILE is good.

A sidecar is trusted only after it is checked: it must be ours, name a
checkpoint, describe the same export (same filters), and not claim more bytes
than FILE holds (a stale sidecar next to a file that was replaced or cut
short; resuming would pad the file with NUL bytes).  Every refusal is one line
that says how to start over.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ._common import UsageError

if TYPE_CHECKING:
    from .._pagination import Checkpoint

#: Marks a sidecar as written by this command (a foreign JSON file is not one).
KIND = "stateset-voice sessions export"


@attrs.frozen
class Progress:
    rows: int
    bytes: int
    checkpoint: Checkpoint


def sidecar(out: Path) -> Path:
    return out.with_name(out.name + ".progress.json")


def load(out: Path, wanted: dict[str, Any], *, force: bool) -> Progress | None:
    """The unfinished earlier run to resume, None to start afresh, or a refusal."""
    path = sidecar(out)
    if force:
        return None
    if not path.exists():
        if out.exists():
            raise UsageError(
                f"{out} already exists (a finished export?); pass --force to overwrite it"
            )
        return None
    if not out.exists():
        return None  # nothing was written that could be resumed
    start_over = "delete it or pass --force to start over"
    data = _read(path, start_over)
    if data.get("filters") != wanted:
        raise UsageError(
            f"{out} holds an unfinished export with other filters; "
            "use the same filters, or pass --force to start over"
        )
    if not isinstance(data.get("checkpoint"), dict):
        raise UsageError(f"{path} records no checkpoint to resume from; {start_over}")
    progress = _decode(data, path, start_over)
    size = out.stat().st_size
    if progress.bytes > size:
        raise UsageError(
            f"{out} is shorter ({size} bytes) than its progress file records "
            f"({progress.bytes}); it changed since. Pass --force to start over"
        )
    return progress


def _read(path: Path, start_over: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise UsageError(f"{path} is not valid JSON (corrupt?); {start_over}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UsageError(f"{path} is not a progress file of this command; {start_over}")
    return data


def _decode(data: dict[str, Any], path: Path, start_over: str) -> Progress:
    from .._errors import InvalidRequestError
    from .._pagination import Checkpoint

    rows, size = data.get("rows"), data.get("bytes")
    try:
        checkpoint = Checkpoint.from_dict(data["checkpoint"])
    except InvalidRequestError:
        checkpoint = None
    if type(rows) is not int or type(size) is not int or rows < 0 or size < 0 or checkpoint is None:
        raise UsageError(f"{path} is damaged (bad rows, bytes or checkpoint); {start_over}")
    return Progress(rows=rows, bytes=size, checkpoint=checkpoint)


def save(out: Path, progress: dict[str, Any]) -> None:
    """Atomically: a crash leaves the old sidecar or the new one, never half."""
    path = sidecar(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"kind": KIND, **progress}))
    os.replace(tmp, path)
