"""A TCP proxy on loopback between a client and its server that a test can cut.

`partition()` forwards nothing either way (a silent network: calls time out), `lose_replies()`
forwards requests but drops every answer (the server acts, the caller never hears),
`refuse()` closes every connection at once and each new one as it comes (calls fail fast),
`restore()` drops the connections of the cut (their streams are broken mid-frame) and
forwards again, as a network that comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from enum import Enum

__all__ = ["CuttableProxy"]


class Mode(Enum):
    OPEN = "open"
    PARTITIONED = "partitioned"
    LOSING_REPLIES = "losing replies"
    REFUSING = "refusing"


class CuttableProxy:
    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self._target = (host or "127.0.0.1", int(port))
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self.mode = Mode.OPEN
        self.requests_forwarded = 0  # bytes from client to server, for tests to see traffic

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self._drop_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def partition(self) -> None:
        self.mode = Mode.PARTITIONED

    def lose_replies(self) -> None:
        self.mode = Mode.LOSING_REPLIES

    def refuse(self) -> None:
        self.mode = Mode.REFUSING
        self._drop_all()

    def restore(self) -> None:
        if self.mode is not Mode.OPEN:
            self._drop_all()
        self.mode = Mode.OPEN

    def _drop_all(self) -> None:
        for writer in list(self._connections):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._connections.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.mode is Mode.REFUSING:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._connections.update((client_writer, server_writer))
        pumps = [
            asyncio.create_task(self._pump(client_reader, server_writer, upstream=True)),
            asyncio.create_task(self._pump(server_reader, client_writer, upstream=False)),
        ]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for writer in (client_writer, server_writer):
            with contextlib.suppress(Exception):
                writer.transport.abort()
            self._connections.discard(writer)
        for pump in pumps:
            pump.cancel()
            self._tasks.discard(pump)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                if self.mode is Mode.PARTITIONED or (self.mode is Mode.LOSING_REPLIES and not upstream):
                    continue  # lost on the way
                if upstream:
                    self.requests_forwarded += len(data)
                writer.write(data)
                await writer.drain()
