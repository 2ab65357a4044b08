"""A real HTTP proxy on loopback, written for the tests: it records what passes.

It speaks the two forms a client uses with an HTTP proxy:

* ``CONNECT host:port`` (python-websockets for every ``ws://``/``wss://``
  URL, aiohttp for ``https://``): answer 200, then tunnel bytes both ways;
* an absolute-form request, ``GET http://host:port/path HTTP/1.1`` (aiohttp
  for plain ``http://`` URLs): forward it upstream in origin form with
  ``Connection: close``, so each request costs one proxy connection and is
  recorded once.

With ``auth`` set, a request without that ``Proxy-Authorization`` gets 407.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib

import attrs
from yarl import URL

from ._loopback import LoopbackStreams

_HOP_BY_HOP = frozenset({"proxy-authorization", "proxy-connection", "connection", "keep-alive"})


@attrs.frozen
class Seen:
    """One request the proxy handled."""

    method: str
    target: str  # "host:port" for CONNECT, the absolute URL otherwise
    proxy_authorization: str | None


class ConnectProxy(LoopbackStreams):
    """``async with ConnectProxy() as proxy:``; point a client at ``proxy.url``."""

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.seen: list[Seen] = []
        self._expected = (
            None if auth is None else "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        )

    @property
    def url(self) -> str:
        return self.base_url

    def methods(self) -> list[str]:
        return [seen.method for seen in self.seen]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
        method, target, version = request_line.split(" ")
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines]
        auth = next((v for k, v in headers if k.lower() == "proxy-authorization"), None)
        self.seen.append(Seen(method, target, auth))
        if self._expected is not None and auth != self._expected:
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n'
                b"Connection: close\r\n\r\n"
            )
            await writer.drain()
            return
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            url = URL(target)
            assert url.is_absolute(), f"expected an absolute-form request, got {target!r}"
            up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
            kept = [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
            origin_form = url.raw_path_qs
            lines = [f"{method} {origin_form} {version}", *kept, "Connection: close", "", ""]
            up_writer.write("\r\n".join(lines).encode("latin-1"))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
