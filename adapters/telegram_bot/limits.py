"""Telegram's size limits, and the thumbnail Telegram accepts for a video."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from adapters.telegram_bot.config import TelegramConfig

MIB = 2**20  # Telegram's "MB" are binary megabytes, like every size the bots show
OFFICIAL_DOWNLOAD_MB = 20  # getFile on api.telegram.org
OFFICIAL_UPLOAD_MB = 50
LOCAL_MODE_MB = 2000  # a self-hosted Bot API server started with --local
CAPTION_CHARS = 1024
MESSAGE_CHARS = 4096
THUMB_SIDE = 320  # Telegram ignores thumbnails over 320 px or 200 kB


@dataclass(frozen=True)
class Limits:
    download_bytes: int
    upload_bytes: int
    caption_chars: int = CAPTION_CHARS

    @classmethod
    def of(cls, config: TelegramConfig) -> Limits:
        local = config.local_mode
        down = config.download_limit_mb or (LOCAL_MODE_MB if local else OFFICIAL_DOWNLOAD_MB)
        up = config.upload_limit_mb or (LOCAL_MODE_MB if local else OFFICIAL_UPLOAD_MB)
        return cls(download_bytes=int(down * MIB), upload_bytes=int(up * MIB))


def thumbnail(poster: Path) -> bytes:
    """A JPEG of at most 320 px a side from the video's poster frame."""
    with Image.open(poster) as opened:
        image = opened.convert("RGB")
        image.thumbnail((THUMB_SIDE, THUMB_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
    return out.getvalue()


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
