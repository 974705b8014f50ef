"""Build python-telegram-bot's Application from the settings: token, API server, limiter."""

from __future__ import annotations

import logging

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_RETRIES = 3  # a 429 is waited out (retry_after) this many times before giving up
CONCURRENT_UPDATES = 32  # a slow download in one chat must not hold up the others


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    if settings.telegram_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (ApplicationBuilder()
               .token(settings.telegram_token.get_secret_value())
               .rate_limiter(AIORateLimiter(max_retries=MAX_RETRIES))
               .concurrent_updates(CONCURRENT_UPDATES)
               .read_timeout(30).write_timeout(60).media_write_timeout(300))
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
    if settings.telegram_api_file_url:
        builder = builder.base_file_url(settings.telegram_api_file_url)
    if settings.telegram_local_mode:
        builder = builder.local_mode(True)
    return builder.build()
