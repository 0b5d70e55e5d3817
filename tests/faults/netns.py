"""Worker hosts for the partition test: network namespaces joined to this host by veth pairs,
whose link the test cuts and restores, and TCP forwarders that give them the host's loopback
services (the Temporal dev server, PostgreSQL) on the host's end of their link.

Needs root and `ip netns`; `namespaces_unavailable()` says why not, for a skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import uuid

__all__ = ["NetworkNamespace", "TcpForwarder", "namespaces_unavailable"]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def namespaces_unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None when they can."""
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    probe = f"p19-{uuid.uuid4().hex[:8]}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as err:
        return f"`ip netns add` fails here: {err.stderr.decode(errors='replace').strip()[:200]}"
    _ip("netns", "del", probe)
    return None


class NetworkNamespace:
    """A namespace with one veth pair to the host: host end `host_ip`, namespace end `ip`."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.name = f"p19-{tag}"
        self._host_link, self._inner_link = f"v19h{tag}", f"v19n{tag}"
        # A /30 in 10.219.0.0/16 picked at random: tests of other checkouts may run beside.
        block = random.randrange(0, 16384) * 4
        prefix = f"10.219.{block // 256}."
        self.host_ip, self.ip = f"{prefix}{block % 256 + 1}", f"{prefix}{block % 256 + 2}"

    def create(self) -> NetworkNamespace:
        _ip("netns", "add", self.name)
        _ip("link", "add", self._host_link, "type", "veth", "peer", "name", self._inner_link)
        _ip("link", "set", self._inner_link, "netns", self.name)
        _ip("addr", "add", f"{self.host_ip}/30", "dev", self._host_link)
        _ip("link", "set", self._host_link, "up")
        for args in (
            ("addr", "add", f"{self.ip}/30", "dev", self._inner_link),
            ("link", "set", self._inner_link, "up"),
            ("link", "set", "lo", "up"),
        ):
            _ip("-n", self.name, *args)
        return self

    def cut(self) -> None:
        """The link goes down: packets either way are lost, connections hang, nothing is refused."""
        _ip("link", "set", self._host_link, "down")

    def restore(self) -> None:
        _ip("link", "set", self._host_link, "up")

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def delete(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", self._host_link)  # takes its peer with it
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", self.name)


class TcpForwarder:
    """Listens on `host:0` and pipes each connection to `target` (a loopback service)."""

    def __init__(self, host: str, target: str) -> None:
        self._host = host
        target_host, _, port = target.rpartition(":")
        self._target = (target_host or "127.0.0.1", int(port))
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"{self._host}:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> TcpForwarder:
        self._server = await asyncio.start_server(self._accept, self._host, 0)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                sink.close()
