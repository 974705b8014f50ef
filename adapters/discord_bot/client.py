"""The discord.py bot: its command tree and cogs, built with everything they need passed in,
the same way for serving and for `i2vbot sync-commands`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.ports import AdminPort, CorePort
from bot.texts import text

from .admin_commands import AdminCog
from .commands import AccountCog, AnimateCog
from .config import DiscordConfig
from .replies import lang, private, refuse

log = logging.getLogger(__name__)


class Tree(app_commands.CommandTree["I2VBot"]):
    async def interaction_check(self, interaction: discord.Interaction[I2VBot], /) -> bool:
        if interaction.guild_id is None and not interaction.client.config.allow_dms:
            await private(interaction, text("dc_dms_off", lang(interaction)))
            return False
        return True

    async def on_error(self, interaction: discord.Interaction[I2VBot],
                       error: app_commands.AppCommandError, /) -> None:
        await refuse(interaction, getattr(error, "original", error))


class I2VBot(commands.Bot):
    def __init__(self, config: DiscordConfig, core: CorePort, admin: AdminPort, *,
                 dynamic_items: Sequence[type[discord.ui.DynamicItem]] = (),
                 connector: aiohttp.BaseConnector | None = None) -> None:
        # Interactions need no privileged intents; `guilds` keeps discord.py's cache sane.
        dms = config.allow_dms
        super().__init__(command_prefix=commands.when_mentioned,
                         intents=discord.Intents(guilds=True), tree_cls=Tree,
                         allowed_contexts=app_commands.AppCommandContext(
                             guild=True, dm_channel=dms, private_channel=dms),
                         connector=connector, proxy=config.proxy)
        self.config = config
        self.core = core
        self.admin = admin
        self._dynamic_items = tuple(dynamic_items)

    async def setup_hook(self) -> None:
        await self.add_cog(AnimateCog(self, self.core))
        await self.add_cog(AccountCog(self.core))
        await self.add_cog(AdminCog(self.admin))
        self.add_dynamic_items(*self._dynamic_items)

    async def on_ready(self) -> None:
        log.info("discord: connected as %s (application %s)", self.user, self.application_id)
