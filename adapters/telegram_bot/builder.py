"""Build python-telegram-bot's Application from its settings: token, API server, limiter,
and the update queue (which stores payments before updates are confirmed)."""

from __future__ import annotations

import asyncio
import logging

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from adapters.telegram_bot.config import TelegramConfig

log = logging.getLogger(__name__)

MAX_RETRIES = 3  # a 429 is waited out (retry_after) this many times before giving up
CONCURRENT_UPDATES = 32  # a slow download in one chat must not hold up the others


def build_application(config: TelegramConfig,
                      update_queue: asyncio.Queue[object] | None = None) -> Application:
    builder = (ApplicationBuilder()
               .token(config.token.get_secret_value())
               .rate_limiter(AIORateLimiter(max_retries=MAX_RETRIES))
               .concurrent_updates(CONCURRENT_UPDATES)
               .read_timeout(30).write_timeout(60).media_write_timeout(300))
    if update_queue is not None:
        builder = builder.update_queue(update_queue)
    if config.api_base_url:
        builder = builder.base_url(config.api_base_url)
    if config.api_file_url:
        builder = builder.base_file_url(config.api_file_url)
    if config.local_mode:
        builder = builder.local_mode(True)
    return builder.build()
