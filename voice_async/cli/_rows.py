"""Reading campaign rows from a CSV or JSONL file, lazily, with line numbers.

Columns: ``to`` (required), ``from`` and ``agent_key`` (optional: the command's
``--from``/``--agent-key`` fill them in), ``id`` (the row key; optional);
every other column goes into the call's metadata.  A row whose number is not
E.164 is still yielded -- the campaign records it ``failed`` without sending
it -- and :attr:`RowFile.bad_lines` remembers its line for the message.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import _validate as check
from .._campaign_core import CallRow, row_key
from .._errors import InvalidRequestError

RESERVED = ("to", "from", "agent_key", "id")


class RowFile:
    """One input file; iterate :meth:`rows` once."""

    def __init__(self, path: Path, *, from_: str | None, agent_key: str | None) -> None:
        self.path, self.from_, self.agent_key = path, from_, agent_key
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".jsonl", ".ndjson"):
            raise InvalidRequestError(str(path), "must end in .csv or .jsonl")
        self.kind = "csv" if suffix == ".csv" else "jsonl"
        if not path.is_file():
            raise InvalidRequestError(str(path), "no such file")
        #: row key -> (line number, message) for rows refused before sending.
        self.bad_lines: dict[str, tuple[int, str]] = {}
        if self.kind == "csv":
            self._check_header()

    def _check_header(self) -> None:
        with open(self.path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
        columns = {name.strip() for name in header}
        if "to" not in columns:
            raise InvalidRequestError(str(self.path), "missing 'to' column")
        if "from" not in columns and self.from_ is None:
            raise InvalidRequestError("--from", "needed: the file has no 'from' column")
        if "agent_key" not in columns and self.agent_key is None:
            raise InvalidRequestError("--agent-key", "needed: the file has no 'agent_key' column")

    def count(self) -> int:
        """Rows in the file (for the progress bar's total), by counting lines."""
        with open(self.path, "rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        return max(0, lines - (1 if self.kind == "csv" else 0))

    def rows(self) -> Iterator[CallRow]:
        with open(self.path, newline="", encoding="utf-8-sig") as handle:
            if self.kind == "csv":
                reader = csv.DictReader(handle)
                for record in reader:
                    yield self._row(
                        reader.line_num, {k.strip(): v for k, v in record.items() if k is not None}
                    )
            else:
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        yield self._row(number, self._json_line(number, line))

    def _json_line(self, number: int, line: str) -> dict[str, Any]:
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise InvalidRequestError(str(self.path), f"line {number}: not a JSON object")
        return value

    def _row(self, number: int, record: Mapping[str, Any]) -> CallRow:
        def text(name: str, default: str | None) -> str:
            value = record.get(name)
            return str(value) if value not in (None, "") else (default or "")

        metadata = {k: v for k, v in record.items() if k not in RESERVED and v not in (None, "")}
        row = CallRow(
            to=text("to", None).strip(),
            from_=text("from", self.from_).strip(),
            agent_key=text("agent_key", self.agent_key).strip(),
            metadata=metadata or None,
            key=text("id", None) or None,
        )
        try:
            check.phone("to", row.to)
            check.phone("from", row.from_)
        except InvalidRequestError as exc:
            self.bad_lines[row_key(row)] = (number, str(exc))
        return row
