"""The Discord adapter: one client per process, connected in a background task so that
`i2vbot serve` can run several platforms in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from adapters.app import App
from bot.models import JobEvent
from bot.settings import Settings

from . import endpoints
from .client import I2VClient
from .notifier import DiscordNotifier
from .sync import sync_if_wanted

log = logging.getLogger(__name__)

LOGIN_WAIT = 120  # seconds an early event waits for the client to log in


class DiscordAdapter:
    platform = "discord"

    def __init__(self, settings: Settings, app: App) -> None:
        self.settings = settings
        self.app = app
        self.client: I2VClient | None = None
        self.notifier: DiscordNotifier | None = None
        self._logged_in = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in (a bad token fails here), sync commands if wanted, connect in the
        background."""
        endpoints.configure(self.settings)
        self.client = I2VClient(self.settings, self)
        self.notifier = DiscordNotifier(self.client)
        try:
            await self.client.login(endpoints.token(self.settings))
            self._logged_in.set()
            await sync_if_wanted(self.client)
        except BaseException:
            await self.client.close()
            raise
        self._task = asyncio.create_task(self.client.connect(reconnect=True),
                                         name="discord-gateway")
        self._task.add_done_callback(_report_exit)

    async def wait_until_ready(self, timeout: float = 30) -> None:
        assert self.client is not None, "start() first"
        await asyncio.wait_for(self.client.wait_until_ready(), timeout)

    async def stop(self) -> None:
        if self.notifier is not None:
            await self.notifier.close()
        if self.client is not None:
            await self.client.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def notify(self, event: JobEvent) -> None:
        """The core's Notifier port. Events of recovered jobs may come before `start`."""
        if not self._logged_in.is_set():
            try:
                await asyncio.wait_for(self._logged_in.wait(), LOGIN_WAIT)
            except TimeoutError:
                log.error("job %s: Discord never logged in; %s event dropped", event.job.id,
                          event.kind)
                return
        assert self.notifier is not None
        await self.notifier.notify(event)


def _report_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("discord: the gateway connection ended", exc_info=task.exception())
