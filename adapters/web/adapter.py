"""The web adapter: the page's aiohttp server in `serve`'s event loop, beside the chats.

It refuses to start, with one line naming the setting to fix, when it would be open to the
network without a password or when its port is taken. Its server bounds every connection:
aiohttp's own limits (the idle time before a request, which also ends headers that never
finish; header sizes and counts; the body size of small forms), a body timeout of its own
for uploads, at most so many connections per client address (`connections.py`), and as
many open files as the system allows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from aiohttp import web

from adapters.startup import StartError
from adapters.web.access import PLATFORM, Sessions, is_loopback, load_key, networks
from adapters.web.config import WebConfig
from adapters.web.connections import (
    AddressCap,
    CappedSite,
    QuietResourceErrors,
    raise_open_files_limit,
)
from adapters.web.guards import Guards
from adapters.web.live import LiveEvents
from adapters.web.server import build_web_app
from adapters.web.tally import INTERVAL_S, Tally
from bot.models import JobEvent
from bot.ports import CorePort

log = logging.getLogger(__name__)

SHUTDOWN_S = 5.0  # open pages' streams end at once; an upload in flight gets this long
MAX_LINE = 8190  # bytes of the request line and of one header (aiohttp's default, said here)
MAX_HEADERS = 64  # a browser sends about 15
LINGER_S = 2.0  # after refusing a body, the rest of it is read and dropped this long at most


class WebAdapter:
    platform = PLATFORM

    def __init__(self, config: WebConfig, core: CorePort) -> None:
        self.config = config
        self.core = core
        self.live = LiveEvents()
        self.url: str | None = None  # known once started (the port may be chosen then)
        self.guards = Guards(config, networks(config.trusted_proxies))
        self.resources = Tally(logging.WARNING)  # the operator must hear of these
        self._runner: web.AppRunner | None = None
        self._quiet: QuietResourceErrors | None = None
        self._flusher: asyncio.Task[None] | None = None

    async def notify(self, event: JobEvent) -> None:
        self.live.publish(event)

    async def start(self) -> None:
        host, port = self.config.host, self.config.port
        password = self.config.password
        loopback = is_loopback(host)
        if not loopback and password is None:
            raise StartError(f"I2V_WEB_HOST={host} would open the web page to the network "
                             "without a password: set I2V_WEB_PASSWORD, or "
                             "I2V_WEB_HOST=127.0.0.1 to keep it on this machine.")
        secret = password.get_secret_value() if password else None
        sessions = Sessions(load_key(self.config.state_dir, secret))
        before, after = raise_open_files_limit()
        if after != before:
            log.info("web: open files allowed raised from %d to %d", before, after)
        server = build_web_app(self.core, self.live, sessions, self.guards, password=secret)
        runner = web.AppRunner(server, access_log=None, shutdown_timeout=SHUTDOWN_S,
                               keepalive_timeout=self.config.idle_timeout_s,
                               max_line_size=MAX_LINE, max_field_size=MAX_LINE,
                               max_headers=MAX_HEADERS,
                               lingering_time=LINGER_S)
        await runner.setup()
        cap = AddressCap(self.config.max_connections_per_address, self.guards.trusted,
                         self.guards.refusals)
        site = CappedSite(runner, host or None, port, cap)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartError(f"The web page cannot listen on {host}:{port} ({exc.strerror}): "
                             "set I2V_WEB_PORT to a free port"
                             + ("." if loopback else ", or check I2V_WEB_HOST.")) from exc
        self._runner = runner
        self._quiet = QuietResourceErrors(asyncio.get_running_loop(), self.resources)
        self._quiet.install()
        self._flusher = asyncio.create_task(self._flush_tallies(), name="web-tallies")
        bound = runner.addresses[0][1] if runner.addresses else port
        self.url = f"http://{_url_host(host)}:{bound}"
        where = "" if loopback else f" (listening on {host or 'every interface'}, password " \
            "required)"
        log.info("web: serving the page at %s%s", self.url, where)
        print(f"The web page is at {self.url}{where}", file=sys.stderr)

    async def _flush_tallies(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL_S)
            self.guards.refusals.flush()
            self.resources.flush()

    async def stop(self) -> None:
        self.live.close()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self.guards.refusals.flush()
        self.resources.flush()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._quiet is not None:
            self._quiet.uninstall()


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"  # every interface, this machine's included
    return f"[{host}]" if ":" in host else host
