"""The connection pool of one client: one aiohttp session, its loop, its close.

Apart from the transport because several transports can share one pool: a
client view from ``with_options()`` sends with other settings over the same
connections, and closing the view must not close them.
"""

from __future__ import annotations

import asyncio

import aiohttp

from ._errors import ClientClosedError


class Pool:
    """One lazily created ``aiohttp.ClientSession``, bound to the loop that first uses it."""

    def __init__(
        self,
        max_connections: int,
        session: aiohttp.ClientSession | None = None,
        proxy: str | None = None,
    ) -> None:
        self._max_connections = max_connections
        #: Decided by ``_proxy.select_proxy``, never by aiohttp's own env lookup.
        self._proxy = proxy
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use inside the running loop.

        Creating it lazily (not in ``__init__``) lets a client be built at
        import time or in sync code, and binds it to the loop that uses it.
        """
        if self.closed:
            raise ClientClosedError("this AsyncVoiceClient is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(
                connector=connector, proxy=self._proxy, trust_env=False
            )
            self._loop = loop
        elif self._loop is not None and self._loop is not loop:
            raise ClientClosedError(
                "this AsyncVoiceClient was first used in another event loop; "
                "create one client per loop"
            )
        elif self._session.closed:  # only a caller's http_session can be closed under us
            raise ClientClosedError("the aiohttp session passed as http_session is closed")
        return self._session

    async def aclose(self) -> None:
        """Close the session if we created it.  Idempotent; never from ``__del__``.

        The pool's sockets belong to the loop that opened them, and only that
        loop can close them.  Called from another loop, this closes them in
        the owner (scheduled on it when it runs in another thread, or run on
        a worker thread when it is idle); when the owner is already closed,
        nothing can release them cleanly and :class:`ClientClosedError` says
        so instead of returning as if they were closed.
        """
        self.closed = True
        session, self._session = self._session, None
        if session is None or not self._owns_session or session.closed:
            return
        owner = self._loop
        if owner is None or owner is asyncio.get_running_loop():
            await session.close()
            return
        if owner.is_closed():
            self._session = session  # still not released: a repeated aclose() says so again
            raise ClientClosedError(
                "aclose() cannot release this AsyncVoiceClient's connections: the event "
                "loop that opened them is closed. Close the client inside that loop "
                "(`async with AsyncVoiceClient() as client:` does it for you)"
            )
        if owner.is_running():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(session.close(), owner))
        else:
            await asyncio.to_thread(owner.run_until_complete, session.close())
