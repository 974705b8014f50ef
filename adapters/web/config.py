"""The web page's own settings: what it is given instead of the global settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.settings import Settings


@dataclass(frozen=True)
class WebConfig:
    state_dir: Path  # where the key that signs the session cookies is kept
    host: str = "127.0.0.1"
    port: int = 7860  # 0: any free port
    password: SecretStr | None = None  # required to listen beyond the loopback interface

    @classmethod
    def from_settings(cls, settings: Settings) -> WebConfig:
        return cls(state_dir=settings.data_dir, host=settings.web_host,
                   port=settings.web_port, password=settings.web_password)
