"""From an interaction to the core's plain types, and the one way errors are answered."""

from __future__ import annotations

import logging
import time
from typing import Any

import discord

from bot.models import Person
from bot.texts import error_text, text
from engine.errors import UserError

from .strings import lang_of

log = logging.getLogger(__name__)

PUBLIC_DEFER = "i2v_public_defer"


def person_of(interaction: discord.Interaction, user: discord.abc.User | None = None) -> Person:
    user = user or interaction.user
    return Person("discord", str(user.id), name=user.display_name, username=user.name,
                  language=str(interaction.locale))


def lang(interaction: discord.Interaction) -> str:
    return lang_of(interaction.locale)


def chat_of(interaction: discord.Interaction) -> dict[str, Any]:
    """Where a job's events go: the interaction's webhook while its token lives, then the
    channel. The token's age is counted from when it reached us (the snowflake's clock may
    not be ours)."""
    return {
        "application_id": str(interaction.application_id),
        "interaction_token": interaction.token,
        "token_created_at": time.time(),
        "channel_id": str(interaction.channel_id) if interaction.channel_id else None,
        "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
        "user_id": str(interaction.user.id),
        "max_bytes": interaction.filesize_limit,
        "lang": str(interaction.locale),
    }


async def defer_public(interaction: discord.Interaction) -> None:
    """Answer within Discord's 3 s: the "thinking…" message becomes the job's status."""
    await interaction.response.defer(thinking=True)
    interaction.extras[PUBLIC_DEFER] = True


async def private(interaction: discord.Interaction, content: str) -> None:
    """An ephemeral answer, whether or not the interaction was answered already. A public
    "thinking…" message is deleted first so an error never stays in the channel."""
    content = content[:2000]
    if not interaction.response.is_done():
        await interaction.response.send_message(content, ephemeral=True)
        return
    if interaction.extras.pop(PUBLIC_DEFER, False):
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.warning("interaction %s: could not delete the thinking message",
                        interaction.id)
    await interaction.followup.send(content, ephemeral=True)


async def refuse(interaction: discord.Interaction, exc: Exception) -> None:
    """UserError: its own words; anything else: logged in full, a short apology shown."""
    if isinstance(exc, UserError):
        message = error_text(exc, lang(interaction))
    else:
        log.error("interaction %s user %s: %s failed", interaction.id, interaction.user.id,
                  _command_name(interaction), exc_info=exc)
        message = text("internal_error", lang(interaction))
    try:
        await private(interaction, message)
    except discord.HTTPException:
        log.exception("interaction %s: could not send the error message", interaction.id)


def _command_name(interaction: discord.Interaction) -> str:
    command = interaction.command
    if command is not None:
        return command.qualified_name
    return str((interaction.data or {}).get("custom_id", interaction.type))
