"""The Discord adapter's own settings: what it is given instead of the global settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from bot.settings import Settings


@dataclass(frozen=True)
class DiscordConfig:
    token: SecretStr
    state_dir: Path  # where the fingerprint of the last command sync is kept
    guild_id: int | None = None  # commands to one server only (development)
    allow_dms: bool = True
    proxy: str | None = None
    sync_commands: Literal["auto", "always", "never"] = "auto"

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig:
        if settings.discord_token is None:
            raise ValueError("DISCORD_BOT_TOKEN is not set")
        return cls(token=settings.discord_token, state_dir=settings.data_dir,
                   guild_id=settings.discord_guild_id, allow_dms=settings.discord_allow_dms,
                   proxy=settings.discord_proxy, sync_commands=settings.discord_sync_commands)
