"""The Telegram adapter's own settings: what it is given instead of the global settings."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from bot.settings import Settings


@dataclass(frozen=True)
class TelegramConfig:
    token: SecretStr
    api_base_url: str | None = None  # a self-hosted Bot API server
    api_file_url: str | None = None
    local_mode: bool = False  # that server runs with --local: files by path, 2000 MB
    download_limit_mb: float | None = None  # None: the server's own limit
    upload_limit_mb: float | None = None
    webhook_url: str | None = None  # None: long polling
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    max_album: int = 4
    # The answers to /paysupport and /terms when credits are sold (None: the catalogue's).
    pay_support: str | None = None
    terms: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramConfig:
        if settings.telegram_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        return cls(token=settings.telegram_token, api_base_url=settings.telegram_api_base_url,
                   api_file_url=settings.telegram_api_file_url,
                   local_mode=settings.telegram_local_mode,
                   download_limit_mb=settings.telegram_download_limit_mb,
                   upload_limit_mb=settings.telegram_upload_limit_mb,
                   webhook_url=settings.telegram_webhook_url,
                   webhook_listen=settings.telegram_webhook_listen,
                   webhook_port=settings.telegram_webhook_port,
                   webhook_secret=settings.telegram_webhook_secret,
                   max_album=settings.telegram_max_album, pay_support=settings.pay_support,
                   terms=settings.terms)
