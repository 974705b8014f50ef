"""The web adapter: the page's aiohttp server in `serve`'s event loop, beside the chats.

It refuses to start, with one line naming the setting to fix, when it would be open to the
network without a password or when its port is taken.
"""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from adapters.startup import StartError
from adapters.web.access import PLATFORM, Sessions, is_loopback, load_key
from adapters.web.config import WebConfig
from adapters.web.live import LiveEvents
from adapters.web.server import build_web_app
from bot.models import JobEvent
from bot.ports import CorePort

log = logging.getLogger(__name__)

SHUTDOWN_S = 5.0  # open pages' streams end at once; an upload in flight gets this long


class WebAdapter:
    platform = PLATFORM

    def __init__(self, config: WebConfig, core: CorePort) -> None:
        self.config = config
        self.core = core
        self.live = LiveEvents()
        self.url: str | None = None  # known once started (the port may be chosen then)
        self._runner: web.AppRunner | None = None

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
        server = build_web_app(self.core, self.live, sessions, password=secret,
                               loopback=loopback)
        runner = web.AppRunner(server, access_log=None, shutdown_timeout=SHUTDOWN_S)
        await runner.setup()
        site = web.TCPSite(runner, host or None, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartError(f"The web page cannot listen on {host}:{port} ({exc.strerror}): "
                             "set I2V_WEB_PORT to a free port"
                             + ("." if loopback else ", or check I2V_WEB_HOST.")) from exc
        self._runner = runner
        bound = runner.addresses[0][1] if runner.addresses else port
        self.url = f"http://{_url_host(host)}:{bound}"
        where = "" if loopback else f" (listening on {host or 'every interface'}, password " \
            "required)"
        log.info("web: serving the page at %s%s", self.url, where)
        print(f"The web page is at {self.url}{where}", file=sys.stderr)

    async def stop(self) -> None:
        self.live.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"  # every interface, this machine's included
    return f"[{host}]" if ":" in host else host
