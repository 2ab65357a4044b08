"""The lifecycle every hand-written test server shares: bind loopback, release on exit.

The scripted, hostile and recording servers of the suites differ in what
they answer, never in how they start and stop: each binds ``127.0.0.1`` on a
free port when its ``async with`` opens, exposes ``base_url``, and must give
its socket and connections back when the block exits -- also when the test
failed, or the next test inherits a half-open server.  That protocol lives
here once, so a fix to it (a shutdown timeout, a leaked connection) is made
in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

from aiohttp import web

HOST = "127.0.0.1"

_S = TypeVar("_S", bound="Loopback")


class Loopback:
    """``async with server:`` runs ``start()`` on entry and ``stop()`` on exit, always."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _S) -> _S:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def serve_app(
    app: web.Application, *, shutdown_timeout: float = 1.0
) -> tuple[web.AppRunner, str]:
    """Run ``app`` on a free loopback port: ``(runner, base_url)``; ``runner.cleanup()`` stops it.

    No access log (it would only be noise in a failing test's output); a short
    ``shutdown_timeout`` because a test server has nothing worth waiting for
    when a client left a request hanging.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    return runner, f"http://{HOST}:{runner.addresses[0][1]}"


class LoopbackApp(Loopback):
    """An aiohttp server on loopback: a subclass builds its application in ``app()``."""

    #: Seconds aiohttp waits for handlers still running when the block exits.
    shutdown_timeout = 1.0

    def __init__(self) -> None:
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> None:
        self._runner, self.base_url = await serve_app(
            self.app(), shutdown_timeout=self.shutdown_timeout
        )

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


class LoopbackStreams(Loopback):
    """A raw asyncio stream server on loopback: a subclass answers in ``serve()``.

    For bytes no HTTP framework would send.  Each connection runs in its own
    task; on exit the listening socket closes and every connection still open
    is cancelled, so ``wait_closed`` does not wait on a client that never
    hangs up.  A peer dropping the connection mid-request ends ``serve()``
    quietly: hostile tests provoke exactly that.
    """

    def __init__(self) -> None:
        self.base_url = ""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://{HOST}:{self.port}"

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.serve(reader, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
