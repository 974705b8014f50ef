"""The discord.py client and its command tree, built the same way for serving and for
`i2vbot sync-commands` (which needs the commands but no core)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.settings import Settings

from .admin_commands import admin
from .buttons import JobButton
from .commands import PUBLIC
from .replies import lang, private, refuse
from .strings import say

if TYPE_CHECKING:
    from .adapter import DiscordAdapter

log = logging.getLogger(__name__)


class Tree(app_commands.CommandTree):
    def __init__(self, client: discord.Client, allow_dms: bool) -> None:
        super().__init__(client, allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=allow_dms, private_channel=allow_dms))
        self.allow_dms = allow_dms

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.guild_id is None and not self.allow_dms:
            await private(interaction, say("dms_off", lang(interaction)))
            return False
        return True

    async def on_error(self, interaction: discord.Interaction,
                       error: app_commands.AppCommandError, /) -> None:
        await refuse(interaction, getattr(error, "original", error))


class I2VClient(discord.Client):
    def __init__(self, settings: Settings, adapter: DiscordAdapter | None = None) -> None:
        # Interactions need no gateway intents; `guilds` keeps discord.py's cache sane.
        super().__init__(intents=discord.Intents(guilds=True))
        self.settings = settings
        self.adapter = adapter
        self.tree = Tree(self, settings.discord_allow_dms)
        for command in PUBLIC:
            self.tree.add_command(command)
        self.tree.add_command(admin)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(JobButton)

    async def on_ready(self) -> None:
        log.info("discord: connected as %s (application %s)", self.user, self.application_id)

