"""Registering the slash commands with Discord, on purpose rather than on every start.

With DISCORD_GUILD_ID set (development) the commands go to that server only and appear at
once; otherwise they are global. DISCORD_SYNC_COMMANDS decides when `serve` syncs:
"auto" (the default) when the command payload or its target changed since the last sync,
remembered in the data folder; "always"; or "never" (then run `i2vbot sync-commands`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys

import discord

from bot.settings import Settings

from . import endpoints
from .client import I2VClient

log = logging.getLogger(__name__)

STATE_FILE = "discord_commands.sha256"


def _target(settings: Settings) -> discord.Object | None:
    return discord.Object(settings.discord_guild_id) if settings.discord_guild_id else None


def fingerprint(client: I2VClient) -> str:
    guild = _target(client.settings)
    payload = [c.to_dict(client.tree) for c in client.tree.get_commands()]
    blob = json.dumps({"guild": guild.id if guild else None, "app": client.application_id,
                       "commands": payload}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


async def sync(client: I2VClient) -> int:
    """Register the commands now (the client must be logged in); returns how many."""
    guild = _target(client.settings)
    if guild is not None:
        client.tree.copy_global_to(guild=guild)
    synced = await client.tree.sync(guild=guild)
    where = f"guild {guild.id}" if guild else "globally"
    log.info("discord: %d commands synced %s", len(synced), where)
    state = client.settings.data_dir / STATE_FILE
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(fingerprint(client))
    return len(synced)


async def sync_if_wanted(client: I2VClient) -> None:
    mode = client.settings.discord_sync_commands
    if mode == "never":
        return
    state = client.settings.data_dir / STATE_FILE
    if mode == "auto" and state.exists() and state.read_text().strip() == fingerprint(client):
        log.info("discord: commands unchanged since the last sync; not syncing")
        return
    await sync(client)


async def sync_commands(settings: Settings) -> int:
    """`i2vbot sync-commands`: log in over REST only, register, report, exit code."""
    if settings.discord_token is None:
        print("DISCORD_BOT_TOKEN is not set.", file=sys.stderr)
        return 2
    endpoints.configure(settings)
    client = I2VClient(settings)
    try:
        await client.login(endpoints.token(settings))
        count = await sync(client)
    except discord.LoginFailure:
        print("Discord refused the token (DISCORD_BOT_TOKEN).", file=sys.stderr)
        return 1
    except discord.HTTPException as exc:
        print(f"Discord refused the commands: {exc}", file=sys.stderr)
        return 1
    finally:
        await client.close()
    where = f"to guild {settings.discord_guild_id}" if settings.discord_guild_id else \
        "globally (may take up to an hour to show everywhere)"
    print(f"Synced {count} commands {where}.")
    return 0
