"""From an interaction to the core's plain types, and the one way errors are answered."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import UserError
from bot.models import ChatRef, Person
from bot.texts import error_text, language, text

log = logging.getLogger(__name__)

PLATFORM = "discord"
PUBLIC_DEFER = "i2v_public_defer"


@dataclass(frozen=True)
class Followup:
    """How a job's answers reach the person: the interaction's webhook while its token
    lives (15 minutes), the channel after that. Kept in the job's `ChatRef.handle`; the
    token's age counts from when it reached us (the snowflake's clock may not be ours)."""

    application_id: int
    token: str
    received_at: float
    user_id: int

    def encode(self) -> str:
        return json.dumps({"app": str(self.application_id), "token": self.token,
                           "at": self.received_at, "user": str(self.user_id)})

    @classmethod
    def decode(cls, handle: str | None) -> Followup | None:
        if not handle:
            return None
        data: dict[str, Any] = json.loads(handle)
        return cls(int(data["app"]), data["token"], float(data["at"] or 0), int(data["user"]))


def person_of(interaction: discord.Interaction, user: discord.abc.User | None = None) -> Person:
    user = user or interaction.user
    return Person(PLATFORM, str(user.id), name=user.display_name, username=user.name,
                  language=str(interaction.locale))


def lang(interaction: discord.Interaction) -> str:
    return language(str(interaction.locale))


def chat_of(interaction: discord.Interaction) -> ChatRef:
    followup = Followup(interaction.application_id, interaction.token, time.time(),
                        interaction.user.id)
    return ChatRef(PLATFORM, chat_id=str(interaction.channel_id or ""),
                   upload_limit=interaction.filesize_limit, language=str(interaction.locale),
                   private=interaction.guild_id is None, handle=followup.encode())


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


async def refuse(interaction: discord.Interaction, exc: BaseException) -> None:
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
    data: Mapping[str, Any] = interaction.data or {}
    return str(data.get("custom_id", interaction.type))
