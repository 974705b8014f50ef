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
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
    trusted_proxies: tuple[str, ...] = ()
    max_connections_per_address: int = 32  # open connections of one client address
    idle_timeout_s: float = 15.0  # a connection without a request (headers included) ends
    body_timeout_s: float = 30.0  # an upload that sends nothing for this long ends
    new_sessions_per_day: int = 6  # new browser sessions (people) of one client address
    submits_per_minute: int = 20  # jobs sent from one client address
    login_attempts: int = 5  # wrong passwords of one address in 15 minutes, then 429

    @classmethod
    def from_settings(cls, settings: Settings) -> WebConfig:
        return cls(state_dir=settings.data_dir, host=settings.web_host,
                   port=settings.web_port, password=settings.web_password,
                   trusted_proxies=tuple(settings.web_trusted_proxies),
                   max_connections_per_address=settings.web_max_connections_per_address,
                   idle_timeout_s=settings.web_idle_timeout_s,
                   body_timeout_s=settings.web_body_timeout_s,
                   new_sessions_per_day=settings.web_new_sessions_per_day,
                   submits_per_minute=settings.web_submits_per_minute,
                   login_attempts=settings.web_login_attempts)
