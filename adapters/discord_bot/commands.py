"""The slash commands everyone sees: /animate and the "Animate image" context menu with its
prompt form; /quota, /queue, /cancel, /history, /presets, /preset and /help. The replies are
the core's shared views, sent as private (ephemeral) messages."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import JobStatus
from bot.ports import CorePort
from bot.texts import text
from bot.views import (
    help_reply,
    history_reply,
    preset_about,
    presets_reply,
    queue_reply,
    quota_reply,
    recipe_about,
)
from engine.spec.cards import DEFAULT_MODEL, cards, preset_names, recipe_names, widest
from engine.spec.params import SEED

from . import jobs
from .replies import lang, person_of, private, refuse

log = logging.getLogger(__name__)

# The command tree is built once, from the cards registered when this module is imported.
PRESET_CHOICES = [app_commands.Choice(
    name=f"{name}: {preset_about(DEFAULT_MODEL, name, 'en')}".removesuffix(": ")[:100],
    value=name) for name in preset_names()]
MODEL_CHOICES = [app_commands.Choice(name=f"{c.name}: {c.title}", value=c.name)
                 for c in cards().values()]
RECIPE_CHOICES = [app_commands.Choice(
    name=f"{name}: {recipe_about(name, 'en')}".removesuffix(": ")[:100], value=name)
    for name in recipe_names()]
# Every model's eta range that has one (I2VGen-XL's 0-1); the core refuses it for the rest.
ETA = (min((c.eta[0] for c in cards().values() if c.eta), default=0.0),
       max((c.eta[1] for c in cards().values() if c.eta), default=1.0))
# Every model's values fit; the core then checks the job against its own model's range.
FRAMES, FPS, STEPS, GUIDANCE = (widest(f) for f in ("frames", "fps", "steps", "guidance"))
Seed = app_commands.Range[int, SEED[0], SEED[1]]
Frames = app_commands.Range[int, int(FRAMES[0]), int(FRAMES[1])]
Fps = app_commands.Range[int, int(FPS[0]), int(FPS[1])]
Steps = app_commands.Range[int, int(STEPS[0]), int(STEPS[1])]
Guidance = app_commands.Range[float, GUIDANCE[0], GUIDANCE[1]]
Eta = app_commands.Range[float, ETA[0], ETA[1]]
Prompt = app_commands.Range[str, 1, 2000]


class PromptModal(discord.ui.Modal):
    """Asks for the prompt of an image picked with the context menu."""

    def __init__(self, core: CorePort, attachment: discord.Attachment, lang_code: str) -> None:
        super().__init__(title=text("dc_modal_title", lang_code), timeout=600)
        self.core = core
        self.attachment = attachment
        self.prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label=text("dc_modal_prompt", lang_code), style=discord.TextStyle.paragraph,
            max_length=2000, placeholder=text("dc_modal_placeholder", lang_code))
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await jobs.animate(self.core, interaction, self.attachment, self.prompt.value)
        except Exception as exc:  # the modal's own error hook would only log it
            await refuse(interaction, exc)


class AnimateCog(commands.Cog):
    def __init__(self, bot: commands.Bot, core: CorePort) -> None:
        self.core = core
        # Context menus cannot be methods of a cog: one is built and added by hand.
        self.menu = app_commands.ContextMenu(name="Animate image", callback=self.animate_message)
        bot.tree.add_command(self.menu)

    @app_commands.command(name="animate", description="Turn an image into a short video clip")
    @app_commands.describe(
        image="the photo to animate (JPEG, PNG or WebP)",
        prompt="the motion, e.g. 'a cat turning its head slowly'; --flags work here too",
        preset="quality preset (default: yours, or standard)",
        model="the video model (default: the server's first; /presets lists them)",
        seed="same seed, same video",
        negative="what to avoid, e.g. 'blurry, distorted'",
        frames="number of frames (" + "; ".join(f"{c.name} {c.frame_counts()}"
                                                for c in cards().values()) + ")",
        fps=f"frames per second ({FPS[0]}-{FPS[1]})",
        steps=f"denoising steps ({STEPS[0]}-{STEPS[1]})",
        guidance="how closely to follow the prompt (good starts: " + "; ".join(
            f"{c.name} {c.presets['standard'].guidance:g}" for c in cards().values()) + ")",
        recipe="a tested scene's size, frames, fps, steps and guidance (I2VGen-XL)",
        focus="keep the subject sharp and blur the background",
        eta=f"I2VGen-XL's sampler noise per step ({ETA[0]:g}-{ETA[1]:g}; its default, 0, "
            "adds none)",
    )
    @app_commands.choices(preset=PRESET_CHOICES, model=MODEL_CHOICES, recipe=RECIPE_CHOICES)
    async def animate(self, interaction: discord.Interaction, image: discord.Attachment,
                      prompt: Prompt, preset: app_commands.Choice[str] | None = None,
                      seed: Seed | None = None, negative: str | None = None,
                      frames: Frames | None = None, fps: Fps | None = None,
                      steps: Steps | None = None, guidance: Guidance | None = None,
                      model: app_commands.Choice[str] | None = None,
                      recipe: app_commands.Choice[str] | None = None,
                      focus: bool | None = None, eta: Eta | None = None) -> None:
        typed = {"negative_prompt": negative, "frames": frames, "fps": fps, "steps": steps,
                 "guidance": guidance, "model": model.value if model else None,
                 "recipe": recipe.value if recipe else None, "focus": focus or None,
                 "eta": eta}
        await jobs.animate(self.core, interaction, image, prompt,
                           preset=preset.value if preset else None, seed=seed,
                           overrides={k: v for k, v in typed.items() if v is not None})

    @app_commands.command(name="extend", description="Continue one of your videos")
    @app_commands.describe(job="the job id of the video (its buttons' ⏩ does the same)",
                           prompt="a new prompt for the continuation (default: the same)")
    async def extend(self, interaction: discord.Interaction, job: str,
                     prompt: Prompt | None = None) -> None:
        await jobs.extend(self.core, interaction, job.strip().lstrip("#"), prompt)

    async def animate_message(self, interaction: discord.Interaction,
                              message: discord.Message) -> None:
        attachment = jobs.first_image(message)
        if attachment is None:
            await private(interaction, text("dc_no_image_in_message", lang(interaction)))
            return
        await interaction.response.send_modal(PromptModal(self.core, attachment,
                                                          lang(interaction)))


class AccountCog(commands.Cog):
    def __init__(self, core: CorePort) -> None:
        self.core = core

    @app_commands.command(name="quota", description="Your credits left today")
    async def quota(self, interaction: discord.Interaction) -> None:
        balance = await self.core.balance(person_of(interaction))
        await private(interaction, quota_reply(balance, lang(interaction)))

    @app_commands.command(name="queue", description="How many videos are waiting, and yours")
    async def queue(self, interaction: discord.Interaction) -> None:
        view = await self.core.queue_view(person_of(interaction))
        await private(interaction, queue_reply(view, lang(interaction)))

    @app_commands.command(name="cancel",
                          description="Cancel your video (the latest, or by job id)")
    @app_commands.describe(job="the job id (default: your latest waiting or running video)")
    async def cancel(self, interaction: discord.Interaction, job: str | None = None) -> None:
        cancelled = await self.core.cancel(person_of(interaction), job)
        key = "cancelled" if cancelled.status is JobStatus.CANCELLED else "cancelling"
        await private(interaction, text(key, lang(interaction), job=cancelled.id))

    @app_commands.command(name="history", description="Your recent videos")
    async def history(self, interaction: discord.Interaction) -> None:
        done = await self.core.history(person_of(interaction), 10)
        await private(interaction, history_reply(done, lang(interaction)))

    @app_commands.command(name="presets", description="The quality presets and their cost")
    async def presets(self, interaction: discord.Interaction) -> None:
        await private(interaction, presets_reply(lang(interaction), self.core.models))

    @app_commands.command(name="preset", description="Set your default quality preset")
    @app_commands.choices(name=PRESET_CHOICES)
    async def preset(self, interaction: discord.Interaction,
                     name: app_commands.Choice[str]) -> None:
        user = await self.core.set_default_preset(person_of(interaction), name.value)
        await private(interaction, text("preset_set", lang(interaction),
                                        preset=user.default_preset))

    @app_commands.command(name="help", description="How to write a prompt, and the options")
    async def help_(self, interaction: discord.Interaction) -> None:
        code = lang(interaction)
        await private(interaction,
                      f"{text('dc_help', code)}\n\n{help_reply(code, self.core.models)}")
