"""The benchmark runner: find ``benchmarks/bench_*.py``, run each, print one table.

    .venv/bin/python -m benchmarks [--quick] [--only calls,import|P1,P4] [--write-readme]

The contract a benchmark module follows (also in ``benchmarks/README.md``)::

    CASE = "P1"                                # optional: lets --only select it by case
    def run(quick: bool = False) -> list[dict]  # rows built with benchmarks._common.result

``run`` may also be ``async``.  A module without ``run`` is executed as a
script (``python -m benchmarks.<module>``): its own output is shown and it adds
no row to the table.  ``--write-readme`` replaces the results block of
``benchmarks/README.md`` (between its ``results`` markers) with this run's
machine description and table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import math
import pkgutil
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._common import Row, machine

PACKAGE = "benchmarks"
README = Path(__file__).with_name("README.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"
COLUMNS = (
    "case",
    "metric",
    "SDK",
    "baseline",
    "ratio",
    "min-max",
    "CPU us/op",
    "target",
    "ok",
    "note",
)


def discover(only: Iterable[str] = ()) -> list[str]:
    """``bench_*`` module names, sorted, optionally filtered by name suffix or ``CASE``."""
    here = [Path(__file__).parent.as_posix()]
    names = sorted(m.name for m in pkgutil.iter_modules(here) if m.name.startswith("bench_"))
    wanted = {w.strip().lower() for w in only if w.strip()}
    if not wanted:
        return names
    return [n for n in names if n.removeprefix("bench_") in wanted or _case(n) in wanted]


def _case(name: str) -> str:
    module = importlib.import_module(f"{PACKAGE}.{name}")
    return str(getattr(module, "CASE", "")).lower()


def run_module(name: str, quick: bool) -> list[Row]:
    """The module's rows; a crash is reported as a failed row, not the end of the run."""
    try:
        return _run_module(name, quick)
    except Exception as exc:
        traceback.print_exc()
        case = getattr(sys.modules.get(f"{PACKAGE}.{name}"), "CASE", name)
        failure = f"FAILED: {type(exc).__name__}"
        return [{"case": case, "metric": f"{name} {failure}", "ok": False, "note": str(exc)[:80]}]


def _run_module(name: str, quick: bool) -> list[Row]:
    module = importlib.import_module(f"{PACKAGE}.{name}")
    entry = getattr(module, "run", None)
    if not callable(entry):
        print(f"({name} has no run(): running it as a script; it adds no table row)")
        subprocess.run([sys.executable, "-m", f"{PACKAGE}.{name}"], check=False)
        return []
    accepts_quick = "quick" in inspect.signature(entry).parameters
    rows: Any = entry(quick=quick) if accepts_quick else entry()
    if inspect.isawaitable(rows):
        rows = asyncio.run(_await(rows))
    return [dict(row) for row in rows]


async def _await(awaitable: Any) -> Any:
    return await awaitable


# -- the table --------------------------------------------------------------------------


def _number(value: float, unit: str) -> str:
    if not isinstance(value, (int, float)) or math.isnan(value):
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def _pair(pair: Any, template: str) -> str:
    """``range`` (min, max of the per-round ratios) or ``cpu`` (SDK, baseline us/op)."""
    return template.format(*pair) if pair else ""


def _cells(row: Mapping[str, Any]) -> list[str]:
    unit = str(row.get("unit", ""))
    ok = row.get("ok")
    return [
        str(row.get("case", "")),
        str(row.get("metric", "")),
        _number(row.get("sdk", math.nan), unit),
        _number(row.get("baseline", math.nan), unit)
        + (f" ({row['baseline_name']})" if row.get("baseline_name") else ""),
        _number(row.get("ratio", math.nan), "x"),
        _pair(row.get("range"), "{:.2f}-{:.2f}"),
        _pair(row.get("cpu"), "{:.1f} vs {:.1f}"),
        str(row.get("target", "")),
        "-" if ok is None else ("yes" if ok else "NO"),
        str(row.get("note", "")),
    ]


def print_table(rows: list[Row]) -> None:
    table = [list(COLUMNS), *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for index, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in _cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def write_readme(rows: list[Row], description: str, quick: bool) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{README} has no {START} ... {END} block to replace")
    stamp = time.strftime("%Y-%m-%d")
    mode = " (--quick)" if quick else ""
    block = f"{START}\nLatest run{mode}, {stamp}: {description}\n\n{markdown_table(rows)}\n{END}"
    head, rest = text.split(START, 1)
    README.write_text(head + block + rest.split(END, 1)[1])
    print(f"wrote the table to {README}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    parser.add_argument("--only", default="", help="comma-separated: calls,import or P1,P4")
    parser.add_argument("--write-readme", action="store_true", help="record the table")
    args = parser.parse_args(argv)
    description = machine()
    print(description)
    rows: list[Row] = []
    for name in discover(args.only.split(",")):
        print(f"\n== {name}")
        rows += run_module(name, args.quick)
    print()
    print_table(rows)
    if args.write_readme:
        write_readme(rows, description, args.quick)
    return 1 if any(row.get("ok") is False for row in rows) else 0
