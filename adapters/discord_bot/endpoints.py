"""Where the client talks to: Discord itself, a proxy, or the fake servers of the tests.

discord.py builds every REST and webhook URL from `Route.BASE`, and `Client.connect` opens
the gateway at `DiscordWebSocket.DEFAULT_GATEWAY`; both are class attributes, so they are
set (or put back to Discord's) before a client logs in. The settings are one per process.
"""

from __future__ import annotations

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.settings import Settings

DISCORD_API = Route.BASE
DISCORD_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY


def configure(settings: Settings) -> None:
    Route.BASE = (settings.discord_api_base_url or DISCORD_API).rstrip("/")
    gateway = settings.discord_gateway_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway) if gateway else DISCORD_GATEWAY


def token(settings: Settings) -> str:
    if settings.discord_token is None:
        raise discord.LoginFailure("DISCORD_BOT_TOKEN is not set")
    return settings.discord_token.get_secret_value()
