"""/admin: the admin verbs as a command group. Default member permissions hide it from
everyone without Manage Server; bot.admin checks I2V_ADMINS again at run time, whatever
Discord showed."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin import LIFT, usage
from bot.models import Person
from bot.ports import AdminPort

from .replies import PLATFORM, person_of, private

# Admins are the people in I2V_ADMINS; the chat can only make someone trusted or not.
ROLE_CHOICES = [app_commands.Choice(name=r, value=r) for r in ("trusted", "user")]
Credits = app_commands.Range[float, 0, 100000]
USER = "the Discord user"
CHANNEL = "a channel id (Copy Channel ID), instead of a user"
LIFT_HELP = "end the person's pause for today (their refusals so far stop counting)"


def _describe(verb: str) -> str:
    return usage(verb).split(": ", 1)[-1][:100]


@app_commands.default_permissions(manage_guild=True)
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
class AdminCog(commands.GroupCog, group_name="admin", group_description="Bot admin commands"):
    """Servers only: Manage Server hides the group from members there, while in a direct
    message nothing would (each verb still checks I2V_ADMINS)."""

    def __init__(self, admin: AdminPort) -> None:
        self.admin = admin
        super().__init__()

    async def _run(self, interaction: discord.Interaction, verb: str, *args: str,
                   user: discord.abc.User | None = None) -> None:
        """Run a verb; a User option is the person it is about (made known to the core only
        once the actor is found to be an admin: a refused call leaves no trace of them)."""
        named = None if user is None else Person(PLATFORM, str(user.id),
                                                 name=user.display_name, username=user.name)
        await private(interaction, await self.admin.run(person_of(interaction), verb,
                                                        list(args), named=named))

    @app_commands.command(name="quota", description=_describe("quota"))
    @app_commands.describe(user=USER)
    async def quota(self, interaction: discord.Interaction, user: discord.User) -> None:
        await self._run(interaction, "quota", user=user)

    @app_commands.command(name="allowance", description=_describe("allowance"))
    @app_commands.describe(user=USER, credits="daily credits, or 'default' to clear it")
    async def allowance(self, interaction: discord.Interaction, user: discord.User,
                        credits: str) -> None:
        await self._run(interaction, "allowance", credits, user=user)

    @app_commands.command(name="grant", description=_describe("grant"))
    @app_commands.describe(user=USER)
    async def grant(self, interaction: discord.Interaction, user: discord.User,
                    credits: Credits) -> None:
        await self._run(interaction, "grant", f"{credits:g}", user=user)

    @app_commands.command(name="reset", description=_describe("reset"))
    @app_commands.describe(user=USER)
    async def reset(self, interaction: discord.Interaction, user: discord.User) -> None:
        await self._run(interaction, "reset", user=user)

    @app_commands.command(name="ban", description=_describe("ban"))
    @app_commands.describe(user=USER)
    async def ban(self, interaction: discord.Interaction, user: discord.User) -> None:
        await self._run(interaction, "ban", user=user)

    @app_commands.command(name="unban", description=_describe("unban"))
    @app_commands.describe(user=USER)
    async def unban(self, interaction: discord.Interaction, user: discord.User) -> None:
        await self._run(interaction, "unban", user=user)

    @app_commands.command(name="role", description="Set a user's role")
    @app_commands.describe(user=USER)
    @app_commands.choices(role=ROLE_CHOICES)
    async def role(self, interaction: discord.Interaction, user: discord.User,
                   role: app_commands.Choice[str]) -> None:
        await self._run(interaction, "role", role.value, user=user)

    @app_commands.command(name="allow", description="Add a user or a channel to the allow-list")
    @app_commands.describe(user=USER, channel_id=CHANNEL)
    async def allow(self, interaction: discord.Interaction, user: discord.User | None = None,
                    channel_id: str | None = None) -> None:
        await self._run(interaction, "allow", *_target(channel_id), user=user)

    @app_commands.command(name="disallow",
                          description="Remove a user or a channel from the allow-list")
    @app_commands.describe(user=USER, channel_id=CHANNEL)
    async def disallow(self, interaction: discord.Interaction,
                       user: discord.User | None = None, channel_id: str | None = None) -> None:
        await self._run(interaction, "disallow", *_target(channel_id), user=user)

    @app_commands.command(name="pause", description=_describe("pause"))
    async def pause(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "pause")

    @app_commands.command(name="resume", description=_describe("resume"))
    async def resume(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "resume")

    @app_commands.command(name="cancel", description=_describe("cancel"))
    @app_commands.describe(job="the job id")
    async def cancel(self, interaction: discord.Interaction, job: str) -> None:
        await self._run(interaction, "cancel", job)

    @app_commands.command(name="refund", description=_describe("refund"))
    @app_commands.describe(charge="the payment id (telegram_payment_charge_id, in the receipt)",
                           force="refund even when some of its credits are spent")
    async def refund(self, interaction: discord.Interaction, charge: str,
                     force: bool = False) -> None:
        # Credits are sold on Telegram only; the refund goes through its bot, when this
        # process runs one.
        await self._run(interaction, "refund", charge.strip(), *(["force"] if force else []))

    @app_commands.command(name="stats", description=_describe("stats"))
    async def stats(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "stats")

    @app_commands.command(name="moderation", description=_describe("moderation"))
    @app_commands.describe(user="only this person's refusals", lift=LIFT_HELP)
    async def moderation(self, interaction: discord.Interaction,
                         user: discord.User | None = None, lift: bool = False) -> None:
        await self._run(interaction, "moderation", *([LIFT] if lift else []), user=user)


def _target(channel_id: str | None) -> list[str]:
    return [f"chat:{channel_id.strip()}"] if channel_id else []
