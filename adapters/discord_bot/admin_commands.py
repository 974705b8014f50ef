"""/admin: the quota issue's admin verbs as a command group. Default member permissions
hide it from everyone without Manage Server; bot.admin checks I2V_ADMINS again at run time,
whatever Discord showed."""


import discord
from discord import app_commands

from bot.admin import USAGE, AdminCommands
from bot.models import Person

from .replies import person_of, private

# Admins are the people in I2V_ADMINS; the chat can only make someone trusted or not.
ROLE_CHOICES = [app_commands.Choice(name=r, value=r) for r in ("trusted", "user")]
Credits = app_commands.Range[float, 0, 100000]

admin = app_commands.Group(name="admin", description="Bot admin commands",
                           default_permissions=discord.Permissions(manage_guild=True))


def _admin(interaction: discord.Interaction) -> AdminCommands:
    return interaction.client.adapter.app.admin  # type: ignore[attr-defined]


async def _run(interaction: discord.Interaction, verb: str, *args: str,
               user: discord.abc.User | None = None) -> None:
    """Run a verb; a User option becomes the first argument, known to the core first."""
    words, commands, actor = list(args), _admin(interaction), person_of(interaction)
    if user is not None:
        if await commands.is_admin(actor):  # a refused call leaves no trace of the target
            await commands.core.user(Person("discord", str(user.id), name=user.display_name,
                                            username=user.name))
        words.insert(0, str(user.id))
    result = await commands.run(actor, verb, words)
    await private(interaction, result)


def _describe(verb: str) -> str:
    return USAGE[verb].split(": ", 1)[-1][:100]


USER = "the Discord user"


@admin.command(name="quota", description=_describe("quota"))
@app_commands.describe(user=USER)
async def quota(interaction: discord.Interaction, user: discord.User) -> None:
    await _run(interaction, "quota", user=user)


@admin.command(name="allowance", description=_describe("allowance"))
@app_commands.describe(user=USER, credits="daily credits, or 'default' to clear the override")
async def allowance(interaction: discord.Interaction, user: discord.User, credits: str) -> None:
    await _run(interaction, "allowance", credits, user=user)


@admin.command(name="grant", description=_describe("grant"))
@app_commands.describe(user=USER)
async def grant(interaction: discord.Interaction, user: discord.User, credits: Credits) -> None:
    await _run(interaction, "grant", f"{credits:g}", user=user)


@admin.command(name="reset", description=_describe("reset"))
@app_commands.describe(user=USER)
async def reset(interaction: discord.Interaction, user: discord.User) -> None:
    await _run(interaction, "reset", user=user)


@admin.command(name="ban", description="Ban a user and cancel their jobs")
@app_commands.describe(user=USER)
async def ban(interaction: discord.Interaction, user: discord.User) -> None:
    await _run(interaction, "ban", user=user)


@admin.command(name="unban", description="Lift a ban")
@app_commands.describe(user=USER)
async def unban(interaction: discord.Interaction, user: discord.User) -> None:
    await _run(interaction, "unban", user=user)


@admin.command(name="role", description="Set a user's role")
@app_commands.describe(user=USER)
@app_commands.choices(role=ROLE_CHOICES)
async def role(interaction: discord.Interaction, user: discord.User,
               role: app_commands.Choice[str]) -> None:
    await _run(interaction, "role", role.value, user=user)


@admin.command(name="allow", description="Add a user or a channel to the allow-list")
@app_commands.describe(user=USER, channel_id="a channel id (Copy Channel ID), instead of a user")
async def allow(interaction: discord.Interaction, user: discord.User | None = None,
                channel_id: str | None = None) -> None:
    await _run(interaction, "allow", *_target(channel_id), user=user)


@admin.command(name="disallow", description="Remove a user or a channel from the allow-list")
@app_commands.describe(user=USER, channel_id="a channel id (Copy Channel ID), instead of a user")
async def disallow(interaction: discord.Interaction, user: discord.User | None = None,
                   channel_id: str | None = None) -> None:
    await _run(interaction, "disallow", *_target(channel_id), user=user)


@admin.command(name="pause", description=_describe("pause"))
async def pause(interaction: discord.Interaction) -> None:
    await _run(interaction, "pause")


@admin.command(name="resume", description=_describe("resume"))
async def resume(interaction: discord.Interaction) -> None:
    await _run(interaction, "resume")


@admin.command(name="cancel", description=_describe("cancel"))
@app_commands.describe(job="the job id")
async def cancel(interaction: discord.Interaction, job: str) -> None:
    await _run(interaction, "cancel", job)


@admin.command(name="stats", description="Today's jobs, GPU time, failures, queue, top users")
async def stats(interaction: discord.Interaction) -> None:
    await _run(interaction, "stats")


def _target(channel_id: str | None) -> list[str]:
    return [f"chat:{channel_id.strip()}"] if channel_id else []
