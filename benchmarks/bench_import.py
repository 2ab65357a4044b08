"""P4: ``import voice_async`` time vs ``import aiohttp`` (fresh interpreters, best of N).

    .venv/bin/python -m benchmarks.bench_import [--repeat 10] [--top 12]

Each statement runs in a new ``python -c`` process; the best of ``--repeat``
wall times is kept (the least disturbed run).  ``python -c pass`` is timed
too, so the table shows both the raw ratio (what a user waits for) and the
ratio net of interpreter start-up (what each import itself costs).  Then
``-X importtime`` attributes voice_async's own import cost, top-level package
by package, and the run checks that no optional dependency (twilio, rich,
websockets) is imported.  Target: ``import voice_async`` <= 1.2x ``import aiohttp``.
Last, ``stateset-voice --help`` is timed the same way and must not import aiohttp.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict

from ._common import Row, best_wall_time, result

CASE = "P4"
TARGET = 1.2
LAZY = ("twilio", "rich", "websockets")


def import_times(repeat: int) -> dict[str, float]:
    """Best wall time of a fresh interpreter for each statement, in seconds."""
    statements = {
        "python": "pass",
        "aiohttp": "import aiohttp",
        "voice_async": "import voice_async",
    }
    best = {name: float("inf") for name in statements}
    for _ in range(repeat):  # interleaved, so a busy moment hits all three
        for name, code in statements.items():
            best[name] = min(best[name], best_wall_time([sys.executable, "-c", code], 1))
    return best


def breakdown() -> dict[str, float]:
    """Import cost (ms) by package under ``import voice_async``, from ``-X importtime``.

    A top-level package's figure is its *cumulative* time at its first import,
    so it includes what it pulled in first (yarl and multidict under aiohttp,
    for instance); ``voice_async (own code)`` is the sum of the *self* times of
    voice_async's own modules.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import voice_async"],
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, float] = defaultdict(float)
    for line in proc.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue  # not an entry (or the header line)
        self_us, cumulative_us, name = int(fields[0]), int(fields[1]), fields[2].strip()
        if name.startswith("voice_async"):
            costs["voice_async (own code)"] += self_us / 1e3
        elif "." not in name:
            costs[name] = cumulative_us / 1e3
    return dict(costs)


def lazy_modules_loaded() -> list[str]:
    code = "import json, sys, voice_async; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in json.loads(out.stdout) if m.split(".")[0] in LAZY]


HELP = """
import sys
try:
    from voice_async.cli import main
    main(["--help"])
except SystemExit:
    pass
sys.stderr.write("\\nHEAVY=" + ",".join(m for m in ("aiohttp", "rich") if m in sys.modules))
"""


def cli_help(repeat: int, python: float) -> Row:
    """``stateset-voice --help``: best wall time, and whether aiohttp got imported."""
    command = [sys.executable, "-c", HELP]
    best = best_wall_time(command, repeat)
    err = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    heavy = [m for m in err.rsplit("HEAVY=", 1)[-1].strip().split(",") if m]
    print(f"  stateset-voice --help: {best * 1e3:.0f} ms; imported: {heavy or 'neither'}")
    row = result(
        CASE,
        "stateset-voice --help (fresh interpreter)",
        sdk=best * 1e3,
        baseline=python * 1e3,
        baseline_name="python -c pass",
        unit="ms",
        better="lower",
        note=f"imports {', '.join(heavy)}" if heavy else "imports neither aiohttp nor rich",
    )
    row.update(target="no aiohttp", ok="aiohttp" not in heavy)
    return row


def run(quick: bool = False, top: int = 10) -> list[Row]:
    """The runner's entry point (see benchmarks/README.md)."""
    times = import_times(5 if quick else 10)
    python, aiohttp, sdk = times["python"], times["aiohttp"], times["voice_async"]
    print(
        f"  best wall time: python -c pass {python * 1e3:.0f} ms, "
        f"import aiohttp {aiohttp * 1e3:.0f} ms, import voice_async {sdk * 1e3:.0f} ms"
    )
    shares = sorted(breakdown().items(), key=lambda kv: -kv[1])
    print("  -X importtime (one run, so noisier than the best-of timings above):")
    for name, ms in shares[:top]:
        print(f"    {name:<24} {ms:7.1f} ms")
    leaked = lazy_modules_loaded()
    print(f"  optional dependencies imported by `import voice_async`: {leaked or 'none'}")
    return [
        result(
            CASE,
            "import time (fresh interpreter)",
            sdk=sdk * 1e3,
            baseline=aiohttp * 1e3,
            baseline_name="import aiohttp",
            unit="ms",
            target=TARGET,
            better="lower",
            note=f"python start-up alone {python * 1e3:.0f} ms",
        ),
        result(
            CASE,
            "import time net of start-up",
            sdk=(sdk - python) * 1e3,
            baseline=(aiohttp - python) * 1e3,
            baseline_name="import aiohttp",
            unit="ms",
            better="lower",
            note="informational" + (f"; LOADED {leaked}" if leaked else ""),
        ),
        cli_help(3 if quick else 10, python),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    rows = run(quick=args.repeat < 10, top=args.top)
    from .run import print_table

    print_table(rows)
    return 0 if all(row["ok"] is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
