"""The Telegram adapter: photo + caption in, video out, on python-telegram-bot (asyncio)."""

from adapters.telegram_bot.adapter import TelegramAdapter
from adapters.telegram_bot.config import TelegramConfig

__all__ = ["TelegramAdapter", "TelegramConfig"]
