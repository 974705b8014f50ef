"""Discord: /animate and friends on discord.py 2.x (see adapter.py for the wiring)."""

from .adapter import DiscordAdapter, sync_commands

__all__ = ["DiscordAdapter", "sync_commands"]
