"""A fake Discord, and the whole bot (the core on the scripted fake GPU + the real
discord.py client) connected to it, per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.app import App
from adapters.discord_bot import DiscordAdapter, DiscordConfig
from adapters.discord_bot.notifier import DiscordNotifier
from bot.executors.base import Executor
from bot.settings import Settings
from tests.adapters.discord_bot.fake_discord import APP_ID, FakeDiscord, snowflake, user_payload
from tests.bot.conftest import make_settings
from tests.fake_executor import FakeExecutor

GUILD = 800000000000000001
CHANNEL = 700000000000000001
ADMIN = 456
USER = 1001
MIB = 2**20


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


def discord_settings(tmp_path, fake: FakeDiscord, **values: Any):
    return make_settings(tmp_path / "data", DISCORD_BOT_TOKEN="fake-token",
                         I2V_ADMINS=f"discord:{ADMIN}", **values)


@dataclass
class Harness:
    """The bot under test: its core, its Discord adapter, its (fake) GPU."""

    app: App
    adapter: DiscordAdapter
    gpu: Executor

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def notifier(self) -> DiscordNotifier:
        return self.adapter.notifier


@pytest.fixture
async def bot(tmp_path, fake) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, fake) as harness:
        yield harness


class running_bot:  # noqa: N801 (used like a function)
    def __init__(self, tmp_path, fake: FakeDiscord, gpu: Executor | None = None,
                 **settings: Any) -> None:
        self.settings = discord_settings(tmp_path, fake, **settings)
        self.fake = fake
        self.gpu = gpu or FakeExecutor()

    async def __aenter__(self) -> Harness:
        self.app = await App.build(self.settings, executor=self.gpu)
        self.adapter = DiscordAdapter(DiscordConfig.from_settings(self.settings), self.app.core,
                                      self.app.admin, self.fake.connector())
        self.app.events.register("discord", self.adapter)
        await self.app.start()
        await self.adapter.start()
        await self.adapter.wait_until_ready()
        return Harness(self.app, self.adapter, self.gpu)

    async def __aexit__(self, *exc: object) -> None:
        await self.adapter.stop()
        await self.app.close()


# Interaction payloads, as Discord sends them

def interaction(kind: int, data: dict[str, Any], *, user: int = USER, locale: str = "en-US",
                guild: bool = True, admin_perms: bool = False, size_limit: int = 10 * MIB,
                message: dict[str, Any] | None = None) -> dict[str, Any]:
    person = user_payload(user, f"user{user}")
    payload: dict[str, Any] = {
        "id": str(snowflake()), "application_id": str(APP_ID), "type": kind, "data": data,
        "token": f"token-{snowflake()}", "version": 1, "locale": locale,
        "attachment_size_limit": size_limit, "channel_id": str(CHANNEL),
        "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
    }
    if guild:
        payload["guild_id"] = str(GUILD)
        payload["guild_locale"] = "en-US"
        payload["channel"] = {"id": str(CHANNEL), "type": 0, "guild_id": str(GUILD),
                              "name": "general", "position": 0,
                              "permission_overwrites": [], "nsfw": False, "parent_id": None}
        payload["member"] = {"user": person, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                             "deaf": False, "mute": False, "flags": 0,
                             "permissions": "8" if admin_perms else "0"}
    else:
        payload["channel"] = {"id": str(CHANNEL), "type": 1, "recipients": [person]}
        payload["user"] = person
    if message is not None:
        payload["message"] = message
    return payload


def option(name: str, value: Any, kind: int) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def slash(name: str, options: list[dict[str, Any]] | None = None,
          resolved: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(snowflake()), "name": name, "type": 1,
                            "options": options or []}
    if resolved:
        data["resolved"] = resolved
    return data


def animate_data(attachment: dict[str, Any], prompt: str, **typed: Any) -> dict[str, Any]:
    kinds = {"preset": 3, "seed": 4, "negative": 3, "frames": 4, "fps": 4, "steps": 4,
             "guidance": 10, "model": 3, "recipe": 3, "focus": 5, "eta": 10}
    options = [option("image", attachment["id"], 11), option("prompt", prompt, 3)]
    options += [option(k, v, kinds[k]) for k, v in typed.items()]
    return slash("animate", options, {"attachments": {attachment["id"]: attachment}})


def admin_data(verb: str, *, user: int | None = None, **values: Any) -> dict[str, Any]:
    kinds = {"credits": 3, "role": 3, "job": 3, "channel_id": 3, "charge": 3, "force": 5,
             "lift": 5}
    options = [option("user", str(user), 6)] if user is not None else []
    options += [option(k, v, 10 if (verb == "grant" and k == "credits") else kinds[k])
                for k, v in values.items()]
    resolved = None
    if user is not None:
        resolved = {"users": {str(user): user_payload(user, f"user{user}")}}
    return slash("admin", [{"name": verb, "type": 1, "options": options}], resolved)
