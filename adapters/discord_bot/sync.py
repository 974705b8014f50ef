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

import aiohttp
import discord
from discord.ext import commands

from bot.settings import Settings

log = logging.getLogger(__name__)

STATE_FILE = "discord_commands.sha256"
RETRY_DELAYS = (30.0, 120.0, 600.0, 1800.0)  # then every 30 minutes


def _target(settings: Settings) -> discord.Object | None:
    return discord.Object(settings.discord_guild_id) if settings.discord_guild_id else None


def fingerprint(bot: commands.Bot, settings: Settings) -> str:
    guild = _target(settings)
    payload = [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
    blob = json.dumps({"guild": guild.id if guild else None, "app": bot.application_id,
                       "commands": payload}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


async def sync(bot: commands.Bot, settings: Settings) -> int:
    """Register the commands now (the bot must be logged in); returns how many."""
    guild = _target(settings)
    if guild is not None:
        bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    log.info("discord: %d commands synced %s", len(synced),
             f"to guild {guild.id}" if guild else "globally")
    state = settings.data_dir / STATE_FILE
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(fingerprint(bot, settings))
    return len(synced)


def wanted(bot: commands.Bot, settings: Settings) -> bool:
    mode = settings.discord_sync_commands
    if mode == "never":
        return False
    state = settings.data_dir / STATE_FILE
    if mode == "auto" and state.exists() and \
            state.read_text().strip() == fingerprint(bot, settings):
        log.info("discord: commands unchanged since the last sync; not syncing")
        return False
    return True


async def sync_until_done(bot: commands.Bot, settings: Settings,
                          delays: tuple[float, ...] = RETRY_DELAYS) -> None:
    """Sync, and on failure log one warning and try again later, forever: the commands
    that were registered before keep working meanwhile."""
    attempt = 0
    while True:
        try:
            await sync(bot, settings)
            return
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            delay = delays[min(attempt, len(delays) - 1)]
            log.warning("discord: registering the slash commands failed (%s); trying again "
                        "in %.0f s", exc, delay)
            attempt += 1
            await asyncio.sleep(delay)
