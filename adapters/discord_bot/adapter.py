"""The Discord adapter: one bot per process, connected in a background task so that
`i2vbot serve` can run several platforms in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import cast

import aiohttp
import discord

from adapters.startup import StartError
from bot.models import JobEvent
from bot.ports import AdminPort, CorePort

from .buttons import JobButton
from .client import I2VBot
from .config import DiscordConfig
from .notifier import DiscordNotifier
from .replies import PLATFORM
from .sync import RETRY_DELAYS, NotServing, sync, sync_until_done, wanted

log = logging.getLogger(__name__)

LOGIN_WAIT = 120  # seconds an early event waits for the bot to log in


def build_bot(config: DiscordConfig, core: CorePort, admin: AdminPort,
              connector: aiohttp.BaseConnector | None = None) -> I2VBot:
    return I2VBot(config, core, admin, dynamic_items=(JobButton,), connector=connector)


async def login(bot: I2VBot, config: DiscordConfig) -> None:
    """Log in over REST; a refused token or an unreachable Discord is a StartError."""
    try:
        await bot.login(config.token.get_secret_value())
    except discord.LoginFailure as exc:
        raise StartError("Discord refused the bot token: check DISCORD_BOT_TOKEN (Developer "
                         "Portal → your application → Bot → Reset Token).") from exc
    except (aiohttp.ClientError, OSError, discord.HTTPException) as exc:
        raise StartError("Discord could not be reached: check the network"
                         + (", and DISCORD_PROXY" if config.proxy else "")
                         + f" ({type(exc).__name__}).") from exc


class DiscordAdapter:
    platform = PLATFORM

    def __init__(self, config: DiscordConfig, core: CorePort, admin: AdminPort,
                 connector: aiohttp.BaseConnector | None = None) -> None:
        self.config = config
        self.bot = build_bot(config, core, admin, connector)
        self.notifier = DiscordNotifier(self.bot, core)
        self._logged_in = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.sync_retry_delays = RETRY_DELAYS  # tests shorten them

    async def start(self) -> None:
        """Log in (a bad token fails here), then connect and sync commands in the
        background: neither a slow gateway nor a failed sync holds up the other platforms."""
        try:
            await login(self.bot, self.config)
        except BaseException:
            await self.bot.close()
            raise
        self._logged_in.set()
        gateway = asyncio.create_task(self.bot.connect(reconnect=True), name="discord-gateway")
        gateway.add_done_callback(_report_exit)
        self._tasks.append(gateway)
        if wanted(self.bot, self.config):
            try:
                await sync(self.bot, self.config)
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                log.warning("discord: registering the slash commands failed (%s); the bot "
                            "serves meanwhile and tries again in the background", exc)
                self._tasks.append(asyncio.create_task(
                    sync_until_done(self.bot, self.config, self.sync_retry_delays),
                    name="discord-sync"))

    async def wait_until_ready(self, timeout: float = 30) -> None:
        await asyncio.wait_for(self.bot.wait_until_ready(), timeout)

    async def stop(self) -> None:
        await self.notifier.close()
        await self.bot.close()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def notify(self, event: JobEvent) -> None:
        """The core's Notifier port. Events of recovered jobs may come before `start`."""
        if not self._logged_in.is_set():
            try:
                await asyncio.wait_for(self._logged_in.wait(), LOGIN_WAIT)
            except TimeoutError:
                log.error("job %s: Discord never logged in; %s event dropped", event.job.id,
                          event.kind)
                return
        await self.notifier.notify(event)

    async def tell(self, platform_id: str, message: str) -> None:
        """Write to one person by direct message; Discord refuses it (Forbidden) where they
        take no DMs from the server's members."""
        await self._logged_in.wait()
        user = self.bot.get_user(int(platform_id)) or await self.bot.fetch_user(int(platform_id))
        await user.send(message)


async def sync_commands(config: DiscordConfig,
                        connector: aiohttp.BaseConnector | None = None) -> int:
    """`i2vbot sync-commands`: the command tree alone (no database, no queue, no GPU), logged
    in over REST only, registered; reports and returns the exit code."""
    idle = NotServing()
    bot = build_bot(config, cast(CorePort, idle), cast(AdminPort, idle), connector)
    try:
        await login(bot, config)  # which runs setup_hook: the commands are in the tree
        count = await sync(bot, config)
    except StartError as exc:
        print(exc, file=sys.stderr)
        return 1
    except discord.HTTPException as exc:
        print(f"Discord refused the commands: {exc}", file=sys.stderr)
        return 1
    finally:
        await bot.close()
    where = f"to guild {config.guild_id}" if config.guild_id else \
        "globally (may take up to an hour to show everywhere)"
    print(f"Synced {count} commands {where}.")
    return 0


def _report_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("discord: the gateway connection ended", exc_info=task.exception())
