"""Helpers shared by the benchmark scripts: server processes, CPU pinning, rounds, rows.

Conventions every ``bench_*.py`` module can rely on (see ``README.md``):

* :class:`LeanServer` runs ``benchmarks._lean_server`` (fixed, pre-encoded
  answers) and :class:`EmulatorProcess` the full emulator, each in a child
  process, so the server's CPU is not charged to the client being measured.
  On a machine with two or more CPUs the child is pinned to the last CPU and
  :func:`pin_client` pins the benchmark to the first.
* :func:`interleave` runs contenders back to back per round, in a rotating
  order; :func:`ratio_summary` turns paired samples into the median of
  per-round ratios with its min-max.
* :func:`result` builds one row of the runner's table.
"""

from __future__ import annotations

import math
import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import metadata
from types import TracebackType
from typing import Any, Literal

API_KEY = "sk_bench_0123456789abcdef"
ADMIN_KEY = "adm_bench_0123456789abcdef"
LEAN_SESSION_ID = "sess_lean_events"
_BANNER = re.compile(r"running at (http://\S+)")

Row = dict[str, Any]


# -- the emulator in its own process ----------------------------------------------


def _cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


class ServerProcess:
    """A server in a child process on a free port; ``with`` starts and stops it.

    ``command`` is the ``python -m`` module and its options; the child prints a
    ``running at http://...`` banner once it listens.  On two or more CPUs the
    child is pinned to the last one (threads it starts later inherit this), so
    its work is never charged to, nor competes with, the client being measured.
    """

    def __init__(self, module: str, *args: str, pin: bool = True) -> None:
        self.command = [sys.executable, "-m", module, "--port", "0", *args]
        self.pin = pin
        self.base_url = ""
        self.api_key, self.admin_key = API_KEY, ADMIN_KEY
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServerProcess:
        self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        cpus = _cpus()
        if self.pin and len(cpus) >= 2:
            os.sched_setaffinity(self._proc.pid, {cpus[-1]})
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            found = _BANNER.search(line)
            if found:
                self.base_url = found.group(1)
                return self
        raise RuntimeError(f"{self.command[2]} exited with code {self._proc.wait()}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


class EmulatorProcess(ServerProcess):
    """``python -m voice_async.testing`` (the full emulator): informational rows only.

    ``args`` are extra CLI options (``--sessions``, ``--latency``, ...).
    Placed calls get ``--event-interval 3600`` by default: their simulated
    conversations then sleep instead of burning the server's CPU mid-benchmark.
    """

    def __init__(self, *args: str, pin: bool = True) -> None:
        args = args if "--event-interval" in args else (*args, "--event-interval", "3600")
        keys = ("--api-key", API_KEY, "--admin-key", ADMIN_KEY)
        super().__init__("voice_async.testing", *keys, *args, pin=pin)


class LeanServer(ServerProcess):
    """``benchmarks._lean_server``: fixed answers from pre-encoded bytes (the baseline server).

    ``sessions`` to list, ``latency`` seconds per list page, ``events`` in the
    one finished session whose id is :data:`LEAN_SESSION_ID`.
    """

    def __init__(
        self, *, sessions: int = 1_000, latency: float = 0.0, events: int = 1_000, pin: bool = True
    ) -> None:
        options = ("--sessions", str(sessions), "--latency", str(latency), "--events", str(events))
        super().__init__("benchmarks._lean_server", *options, pin=pin)
        self.session_id = LEAN_SESSION_ID


def pin_client() -> None:
    """Pin this process to the first CPU (the server gets the last one)."""
    cpus = _cpus()
    if len(cpus) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpus[0]})


# -- measuring ------------------------------------------------------------------------


def proc_status_kib(field: str) -> int:
    """A ``/proc/self/status`` field in KiB (``VmRSS``, ``VmHWM``); 0 if unavailable."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def best_wall_time(command: Sequence[str], repeat: int) -> float:
    """Fastest of ``repeat`` runs of a subprocess, in seconds (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


Sample = tuple[float, float]
"""One measured batch: (operations per second, client CPU microseconds per operation)."""


async def timed(work: Callable[[], Awaitable[int]]) -> Sample:
    """Run ``work`` (returns how many operations it did) and measure it as a :data:`Sample`."""
    with cpu_timer() as elapsed:
        done = await work()
    wall, cpu = elapsed()
    return done / wall, cpu / done * 1e6


async def interleave(
    contenders: Mapping[str, Callable[[], Awaitable[Sample]]], rounds: int, warmup: bool = True
) -> dict[str, list[Sample]]:
    """One sample per contender per round; each round runs all of them back to back.

    The order rotates between rounds and rounds are short, so a busy phase of
    a shared machine is spread over every contender alike; comparing samples
    *within* a round (:func:`paired`) then cancels most of the drift.
    """
    names = list(contenders)
    if warmup:  # connections, caches, first-call costs
        for name in names:
            await contenders[name]()
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(await contenders[name]())
    return samples


def paired(mine: Sequence[Sample], theirs: Sequence[Sample]) -> tuple[float, float, float]:
    """(median, min, max) over rounds of ``mine``'s rate divided by ``theirs`` in that round."""
    ratios = [a[0] / b[0] for a, b in zip(mine, theirs, strict=True)]
    return median(ratios), min(ratios), max(ratios)


def cpu_us(samples: Sequence[Sample]) -> float:
    """Median client CPU per operation over the rounds, in microseconds."""
    return median([s[1] for s in samples])


def versus(
    case: str,
    metric: str,
    samples: Mapping[str, Sequence[Sample]],
    sdk: str,
    baseline: str,
    *,
    unit: str,
    target: float | None = None,
    note: str = "",
) -> Row:
    """A throughput row ``sdk`` vs ``baseline``: median of per-round ratios, min-max, CPU/op."""
    mid, low, high = paired(samples[sdk], samples[baseline])
    row = result(
        case,
        metric,
        sdk=median([s[0] for s in samples[sdk]]),
        baseline=median([s[0] for s in samples[baseline]]),
        baseline_name=baseline,
        unit=unit,
        target=target,
        ratio=mid,
        note=note or f"{len(samples[sdk])} rounds",
    )
    row["range"] = (low, high)
    row["cpu"] = (cpu_us(samples[sdk]), cpu_us(samples[baseline]))
    return row


@contextmanager
def cpu_timer() -> Iterator[Callable[[], tuple[float, float]]]:
    """``with cpu_timer() as elapsed:`` ... ``wall, cpu = elapsed()`` (this process's CPU)."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    yield lambda: (time.perf_counter() - wall0, time.process_time() - cpu0)


# -- describing the run ------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def machine() -> str:
    """One line describing where the numbers came from."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    libs = ", ".join(
        f"{name} {_version(name)}"
        for name in ("voice-async", "aiohttp", "httpx", "websockets", "cattrs", "attrs")
    )
    return (
        f"{_cpu_model()}, {len(_cpus()) or os.cpu_count()} CPUs, {memory_gib:.0f} GiB RAM; "
        f"{platform.system()} {platform.release()}; "
        f"{platform.python_implementation()} {platform.python_version()}; {libs}"
    )


# -- result rows ------------------------------------------------------------------------


def result(
    case: str,
    metric: str,
    *,
    sdk: float,
    baseline: float,
    baseline_name: str,
    unit: str,
    target: float | None = None,
    better: Literal["higher", "lower"] = "higher",
    note: str = "",
    ratio: float | None = None,
) -> Row:
    """One row of the summary table: ``ratio`` is ``sdk / baseline``.

    ``better="higher"`` (throughput) passes when ``ratio >= target``;
    ``better="lower"`` (time, memory) passes when ``ratio <= target``.
    Pass ``ratio`` when it was measured more robustly than the quotient of
    the two medians (e.g. the median of per-round ratios).
    """
    if ratio is None:
        ratio = sdk / baseline if baseline else float("nan")
    op = ">=" if better == "higher" else "<="
    ok = None if target is None else (ratio >= target if better == "higher" else ratio <= target)
    return {
        "case": case,
        "metric": metric,
        "sdk": sdk,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "unit": unit,
        "ratio": ratio,
        "target": "" if target is None else f"{op} {target:g}x",
        "ok": ok,
        "note": note,
    }


def bound(case: str, metric: str, value: float, limit: float, unit: str, note: str = "") -> Row:
    """A row for an absolute bound (memory, a count): ``value`` passes when ``<= limit``."""
    row = result(
        case, metric, sdk=value, baseline=math.nan, baseline_name="", unit=unit, better="lower"
    )
    row.update(target=f"<= {limit:g}{unit}", ok=value <= limit, note=note)
    return row
