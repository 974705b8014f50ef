"""Connections, bounded: at most so many open at once from one client address, the process
allowed as many open files as the system lets it, and running out of them said once a
minute with a count, never once per refused connection.

aiohttp bounds what a connection may send (header sizes and counts, the idle time before a
request, which also ends headers that never finish: `keepalive_timeout` runs from the
connection's start) but has nothing like nginx's `limit_conn`: a thousand half-open
connections from one client would use up the process's open files, and with them
everyone's page. So the site below admits each accepted connection only while its address
has fewer than the limit open; one over it is closed at once. Connections from a trusted
reverse proxy are not counted: the proxy is many people, and limits them itself.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import Counter
from typing import Any

from aiohttp import web

from adapters.web.access import Network, in_networks, limit_key
from adapters.web.tally import Tally

log = logging.getLogger(__name__)

OPEN_FILES_CAP = 65536  # what the page asks for at most: far more than it ever needs
OUT_OF_RESOURCES = "socket.accept() out of system resource"


class AddressCap:
    """How many connections each client address has open; admits or refuses new ones."""

    def __init__(self, limit: int, trusted: tuple[Network, ...], tally: Tally) -> None:
        self.limit = limit
        self.trusted = trusted
        self.tally = tally
        self.open: Counter[str] = Counter()

    def admit(self, address: str) -> str | None:
        """The key counted for `address`, or None when it has its limit open already."""
        if in_networks(address, self.trusted):
            return ""
        key = limit_key(address)
        if self.open[key] >= self.limit:
            self.tally.note("connections over the limit per address", key)
            return None
        self.open[key] += 1
        return key

    def release(self, key: str) -> None:
        if key:
            self.open[key] -= 1
            if self.open[key] <= 0:
                del self.open[key]


class _Admitted(asyncio.Protocol):
    """aiohttp's protocol for one connection, seen first by the cap: a refused connection
    is closed before aiohttp sees it; an admitted one is counted until it closes."""

    def __init__(self, handler: asyncio.Protocol, cap: AddressCap) -> None:
        self._handler = handler
        self._cap = cap
        self._key: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        address = transport.get_extra_info("peername")
        self._key = self._cap.admit(str(address[0]) if address else "")
        if self._key is None:
            if isinstance(transport, asyncio.Transport):
                transport.abort()
            return
        self._handler.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._key is None:
            return
        self._cap.release(self._key)
        self._key = None
        self._handler.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._key is not None:
            self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self._handler.eof_received() if self._key is not None else None

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()


class CappedSite(web.TCPSite):
    """aiohttp's TCP site, each connection admitted by an `AddressCap` first."""

    def __init__(self, runner: web.BaseRunner, host: str | None, port: int, cap: AddressCap,
                 **options: Any) -> None:
        super().__init__(runner, host, port, **options)
        self.cap = cap

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            lambda: _Admitted(server(), self.cap), self._host, self._port,
            backlog=self._backlog, reuse_address=self._reuse_address,
            reuse_port=self._reuse_port)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


def raise_open_files_limit() -> tuple[int, int]:
    """Raise this process's soft limit of open files to its hard limit (capped at
    `OPEN_FILES_CAP`) where the system allows it; returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_CAP if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_CAP)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            return soft, soft
        return soft, wanted
    return soft, soft


class QuietResourceErrors:
    """The event loop's exception handler, less one flood: asyncio reports each refused
    accept() when the process is out of open files (thousands a second under attack);
    those are counted and said once a minute. Everything else goes on as before."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tally: Tally) -> None:
        self.loop = loop
        self.tally = tally
        self.previous = loop.get_exception_handler()

    def install(self) -> None:
        self.loop.set_exception_handler(self)

    def uninstall(self) -> None:
        if self.loop.get_exception_handler() is self:
            self.loop.set_exception_handler(self.previous)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == OUT_OF_RESOURCES:
            error = context.get("exception")
            self.tally.note(f"connections refused for want of {error.strerror.lower()}"
                            if isinstance(error, OSError) and error.strerror
                            else "connections refused for want of resources")
            return
        if self.previous is not None:
            self.previous(loop, context)
        else:
            loop.default_exception_handler(context)
