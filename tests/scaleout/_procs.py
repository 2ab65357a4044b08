"""Real processes for the scale-out tests: a redis-server and arq workers.

No fakes: Debian's ``redis-server`` binary on a free loopback port (append-only
file with ``fsync always``, so a restart keeps every acknowledged write, like a
production Redis with AOF), and ``python -m arq`` worker subprocesses.  All
waiting is done with ``asyncio.sleep`` so the emulator, which runs in the test's
own event loop, keeps serving the workers meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

WORKER_SETTINGS = "voice_async.contrib.arq.WorkerSettings"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        pytest.fail(
            "redis-server is not installed: the scale-out tests need a real Redis server "
            "(Debian/Ubuntu: `apt-get install redis-server`; .ci/run installs it)",
            pytrace=False,
        )
    return found


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process; :meth:`restart` keeps its port and its data."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1
        deadline = time.monotonic() + 15
        while not _pings(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


class Workers:
    """arq worker subprocesses running :data:`WORKER_SETTINGS` with ``env``."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def start(self, n: int = 1) -> list[subprocess.Popen[bytes]]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        started = []
        for _ in range(n):
            log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
            self._logs.append(log)
            proc = subprocess.Popen(
                [sys.executable, "-m", "arq", WORKER_SETTINGS],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.procs.append(proc)
            started.append(proc)
        return started

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no cleanup, no shutdown hook, the job's lock stays in Redis."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    async def supervise(self, n: int) -> None:
        """Keep ``n`` workers running, like systemd or Kubernetes would (until cancelled).

        An arq worker that loses Redis exits with the error (loudly); the
        supervisor starts a replacement, which picks the jobs up again.
        """
        while True:
            missing = n - len(self.alive())
            if missing > 0:
                self.start(missing)
            await asyncio.sleep(0.2)

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("worker-*.log"))
        )

    async def stop_all(self) -> None:
        for proc in self.alive():
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while self.alive() and time.monotonic() < deadline:  # noqa: ASYNC110 - polling processes
            await asyncio.sleep(0.05)
        for proc in self.procs:
            if proc.poll() is None:  # pragma: no cover - a stuck worker
                proc.kill()
            proc.wait()
        for log in self._logs:
            log.close()


def worker_env(redis_url: str, base_url: str, api_key: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATESET_", "VOICE_ASYNC_"))}
    env.update(
        STATESET_VOICE_BASE_URL=base_url,
        STATESET_VOICE_API_KEY=api_key,
        VOICE_ASYNC_REDIS_URL=redis_url,
        # A short job timeout: arq re-runs a dead worker's job timeout + 10 s later
        # (tests whose jobs run longer pass their own).
        VOICE_ASYNC_JOB_TIMEOUT="8",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env
