"""Helpers shared by the benchmark scripts: emulator process, CPU pinning, rows.

Conventions every ``bench_*.py`` module can rely on (see ``README.md``):

* :class:`EmulatorProcess` runs ``python -m voice_async.testing`` in a child
  process, so the server's CPU is not charged to the client being measured.
  On a machine with two or more CPUs it is pinned to the last CPU and
  :func:`pin_client` pins the benchmark to the first: every compared client
  then runs under the same conditions, without the server stealing its core.
* :func:`result` builds one row of the runner's table.
"""

from __future__ import annotations

import os
import platform
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from types import TracebackType
from typing import Any, Literal

API_KEY = "sk_bench_0123456789abcdef"
ADMIN_KEY = "adm_bench_0123456789abcdef"
_BANNER = re.compile(r"running at (http://\S+)")

Row = dict[str, Any]


# -- the emulator in its own process ----------------------------------------------


def _cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


class EmulatorProcess:
    """``python -m voice_async.testing`` on a free port; ``with`` starts and stops it.

    ``args`` are extra CLI options (``--sessions``, ``--latency``, ...).
    Placed calls get ``--event-interval 3600`` by default: their simulated
    conversations then sleep instead of burning the server's CPU mid-benchmark.
    """

    def __init__(self, *args: str, pin: bool = True) -> None:
        self.args = args if "--event-interval" in args else (*args, "--event-interval", "3600")
        self.pin = pin
        self.base_url = ""
        self.api_key, self.admin_key = API_KEY, ADMIN_KEY
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> EmulatorProcess:
        cmd = [sys.executable, "-m", "voice_async.testing", "--port", "0"]
        cmd += ["--api-key", API_KEY, "--admin-key", ADMIN_KEY, *self.args]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        cpus = _cpus()
        if self.pin and len(cpus) >= 2:  # threads it starts later inherit this
            os.sched_setaffinity(self._proc.pid, {cpus[-1]})
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            found = _BANNER.search(line)
            if found:
                self.base_url = found.group(1)
                return self
        raise RuntimeError(f"the emulator exited with code {self._proc.wait()}")

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


def pin_client() -> None:
    """Pin this process to the first CPU (the emulator gets the last one)."""
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
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


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
