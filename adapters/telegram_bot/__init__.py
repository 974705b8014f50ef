"""The Telegram adapter: photo + caption in, video out, on python-telegram-bot (asyncio)."""

from adapters.telegram_bot.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
