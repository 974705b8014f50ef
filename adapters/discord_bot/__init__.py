"""Discord: /animate and friends on discord.py 2.x (see adapter.py for the wiring)."""

from .adapter import DiscordAdapter, sync_commands
from .config import DiscordConfig

__all__ = ["DiscordAdapter", "DiscordConfig", "sync_commands"]
