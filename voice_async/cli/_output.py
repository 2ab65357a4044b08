"""What the CLI writes: terminal-safe text, strict JSON, spreadsheet-safe CSV.

Everything here treats server data as hostile.  A session's ``from`` number
is chosen by whoever calls in, a transcript is what they said, an error
message or request id is whatever a proxy in between sent back:

- text for the terminal has every control character escaped, so an ANSI
  escape or a BEL in a transcript cannot recolour, retitle or beep the
  terminal (``ESC[2J`` shows as the harmless text ``\\x1b[2J``);
- JSON is strict: NaN and Infinity (which Python's ``json`` writes by
  default, and no other JSON parser reads) become ``null``;
- a CSV cell that a spreadsheet would run as a formula gets the OWASP
  apostrophe prefix.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals),
# line/paragraph separators, bidirectional overrides (which can make text
# read differently from what it is) and lone surrogates (undecodable bytes in
# a header, or a "\udc9b" in JSON: stdout cannot even encode them).
_UNSAFE = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_UNSAFE += [*range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000)]
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _UNSAFE}


def clean(value: object) -> str:
    """``str(value)`` made safe to print: control characters shown escaped, on one line."""
    return str(value).translate(_ESCAPES)


def finite(value: Any) -> Any:
    """``value`` with every NaN/Infinity float, however deeply nested, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """Strict JSON on one line (ASCII only, so no character can split or colour it)."""
    try:
        return json.dumps(value, allow_nan=False, default=str)
    except ValueError:  # a NaN/Infinity somewhere: the rare path pays for the walk
        return json.dumps(finite(value), allow_nan=False, default=str)


_E164 = re.compile(r"\+[1-9]\d{1,14}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs (OWASP CSV injection).

    A phone number in E.164 form starts with ``+`` but is no formula; it is
    written unchanged so the export stays useful.
    """
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _E164.fullmatch(value):
        return "'" + value
    return value
