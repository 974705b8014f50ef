"""Registering the slash commands with Discord, on purpose rather than on every start.

With DISCORD_GUILD_ID set (development) the commands go to that server only and appear at
once; otherwise they are global. DISCORD_SYNC_COMMANDS decides when `serve` syncs:
"auto" (the default) when the command payload or its target changed since the last sync,
remembered in the data folder; "always"; or "never" (then run `i2vbot sync-commands`).
A failed sync at `serve` start is retried in the background: the bot serves meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from .config import DiscordConfig

log = logging.getLogger(__name__)

STATE_FILE = "discord_commands.sha256"
RETRY_DELAYS = (30.0, 120.0, 600.0, 1800.0)  # then every 30 minutes


class NotServing:
    """Stands in for the core and the admin verbs while `sync-commands` only registers the
    command tree: the cogs need them to be built, and no command runs."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"sync-commands serves no command (asked for {name})")


def _target(config: DiscordConfig) -> discord.Object | None:
    return discord.Object(config.guild_id) if config.guild_id else None


def fingerprint(bot: commands.Bot, config: DiscordConfig) -> str:
    guild = _target(config)
    payload = [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
    blob = json.dumps({"guild": guild.id if guild else None, "app": bot.application_id,
                       "commands": payload}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


async def sync(bot: commands.Bot, config: DiscordConfig) -> int:
    """Register the commands now (the bot must be logged in); returns how many."""
    guild = _target(config)
    if guild is not None:
        bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    log.info("discord: %d commands synced %s", len(synced),
             f"to guild {guild.id}" if guild else "globally")
    state = config.state_dir / STATE_FILE
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(fingerprint(bot, config))
    return len(synced)


def wanted(bot: commands.Bot, config: DiscordConfig) -> bool:
    mode = config.sync_commands
    if mode == "never":
        return False
    state = config.state_dir / STATE_FILE
    if mode == "auto" and state.exists() and \
            state.read_text().strip() == fingerprint(bot, config):
        log.info("discord: commands unchanged since the last sync; not syncing")
        return False
    return True


async def sync_until_done(bot: commands.Bot, config: DiscordConfig,
                          delays: tuple[float, ...] = RETRY_DELAYS) -> None:
    """Sync, and on failure log one warning and try again later, forever: the commands
    that were registered before keep working meanwhile."""
    attempt = 0
    while True:
        try:
            await sync(bot, config)
            return
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            delay = delays[min(attempt, len(delays) - 1)]
            log.warning("discord: registering the slash commands failed (%s); trying again "
                        "in %.0f s", exc, delay)
            attempt += 1
            await asyncio.sleep(delay)
