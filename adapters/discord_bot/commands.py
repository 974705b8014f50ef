"""The slash commands everyone sees: /animate, /quota, /queue, /cancel, /history, /presets,
/preset, /help, and the "Animate image" message context menu with its prompt modal."""

import logging
import math
import time

import discord
from discord import app_commands

from bot.quotas import credits
from bot.service import Core
from bot.texts import help_text, presets_text, text
from engine.params import FPS, FRAMES, GUIDANCE, PRESETS, SEED, STEPS

from . import jobs
from .replies import lang, person_of, private, refuse
from .strings import say

log = logging.getLogger(__name__)

PRESET_CHOICES = [app_commands.Choice(name=f"{p.name}: {p.description}"[:100], value=p.name)
                  for p in PRESETS.values()]
Seed = app_commands.Range[int, SEED[0], SEED[1]]
Frames = app_commands.Range[int, FRAMES[0], FRAMES[1]]
Fps = app_commands.Range[int, FPS[0], FPS[1]]
Steps = app_commands.Range[int, STEPS[0], STEPS[1]]
Guidance = app_commands.Range[float, GUIDANCE[0], GUIDANCE[1]]
Prompt = app_commands.Range[str, 1, 2000]


def core_of(interaction: discord.Interaction) -> Core:
    return interaction.client.adapter.app.core  # type: ignore[attr-defined]


@app_commands.command(name="animate", description="Turn an image into a short video clip")
@app_commands.describe(
    image="the photo to animate (JPEG, PNG or WebP)",
    prompt="the motion, e.g. 'a cat turning its head slowly'; --flags work here too",
    preset="quality preset (default: yours, or standard)",
    seed="same seed, same video",
    negative="what to avoid, e.g. 'blurry, distorted'",
    frames=f"number of frames ({FRAMES[0]}-{FRAMES[1]})",
    fps=f"frames per second ({FPS[0]}-{FPS[1]})",
    steps=f"denoising steps ({STEPS[0]}-{STEPS[1]})",
    guidance=f"how closely to follow the prompt ({GUIDANCE[0]}-{GUIDANCE[1]}, 9 is good)",
)
@app_commands.choices(preset=PRESET_CHOICES)
async def animate(interaction: discord.Interaction, image: discord.Attachment, prompt: Prompt,
                  preset: app_commands.Choice[str] | None = None, seed: Seed | None = None,
                  negative: str | None = None, frames: Frames | None = None,
                  fps: Fps | None = None, steps: Steps | None = None,
                  guidance: Guidance | None = None) -> None:
    typed = {"negative_prompt": negative, "frames": frames, "fps": fps, "steps": steps,
             "guidance": guidance}
    await jobs.animate(core_of(interaction), interaction, image, prompt,
                       preset=preset.value if preset else None, seed=seed,
                       overrides={k: v for k, v in typed.items() if v is not None})


class PromptModal(discord.ui.Modal):
    """Asks for the prompt of an image picked with the context menu."""

    def __init__(self, attachment: discord.Attachment, lang_code: str) -> None:
        super().__init__(title=say("modal_title", lang_code), timeout=600)
        self.attachment = attachment
        self.prompt = discord.ui.TextInput(label=say("modal_prompt", lang_code),
                                           style=discord.TextStyle.paragraph, max_length=2000,
                                           placeholder=say("modal_placeholder", lang_code))
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await jobs.animate(core_of(interaction), interaction, self.attachment, self.prompt.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       /) -> None:
        await refuse(interaction, error)


@app_commands.context_menu(name="Animate image")
async def animate_message(interaction: discord.Interaction, message: discord.Message) -> None:
    attachment = jobs.first_image(message)
    if attachment is None:
        await private(interaction, say("no_image_in_message", lang(interaction)))
        return
    await interaction.response.send_modal(PromptModal(attachment, lang(interaction)))


@app_commands.command(name="quota", description="Your credits left today")
async def quota(interaction: discord.Interaction) -> None:
    balance = await core_of(interaction).balance(person_of(interaction))
    code = lang(interaction)
    if balance.allowance is None:
        await private(interaction, text("quota_unlimited", code))
        return
    hours = max(1, math.ceil((balance.resets_at - time.time()) / 3600))
    await private(interaction, text("quota", code, left=credits(balance.left),
                                    allowance=credits(balance.allowance),
                                    spent=credits(balance.spent),
                                    granted=credits(balance.granted), hours=hours))


@app_commands.command(name="queue", description="How many videos are waiting, and yours")
async def queue(interaction: discord.Interaction) -> None:
    view = await core_of(interaction).queue_view(person_of(interaction))
    code = lang(interaction)
    if view.length == 0:
        await private(interaction, text("queue_empty", code))
        return
    if view.mine:
        mine = text("queue_mine", code, jobs=", ".join(
            f"{job.id} ({say('running', code) if place == 0 else '#' + str(place)})"
            for job, place in view.mine))
    else:
        mine = text("queue_none_mine", code)
    await private(interaction, text("queue_line", code, count=view.length, mine=mine,
                                    paused=say("paused_suffix", code) if view.paused else ""))


@app_commands.command(name="cancel", description="Cancel your video (the latest, or by job id)")
@app_commands.describe(job="the job id (default: your latest waiting or running video)")
async def cancel(interaction: discord.Interaction, job: str | None = None) -> None:
    cancelled = await core_of(interaction).cancel(person_of(interaction), job)
    await private(interaction, text("cancelling", lang(interaction), job=cancelled.id))


@app_commands.command(name="history", description="Your recent videos")
async def history(interaction: discord.Interaction) -> None:
    code = lang(interaction)
    done = await core_of(interaction).history(person_of(interaction), 10)
    if not done:
        await private(interaction, text("history_empty", code))
        return
    lines = [text("history_head", code)] + [
        text("history_line", code, job=j.id, status=j.status.value, preset=j.params.preset,
             seed=j.params.seed, prompt=j.params.prompt[:60]) for j in done]
    await private(interaction, "\n".join(lines))


@app_commands.command(name="presets", description="The quality presets and their cost")
async def presets(interaction: discord.Interaction) -> None:
    await private(interaction, presets_text(lang(interaction)))


@app_commands.command(name="preset", description="Set your default quality preset")
@app_commands.choices(name=PRESET_CHOICES)
async def preset(interaction: discord.Interaction, name: app_commands.Choice[str]) -> None:
    user = await core_of(interaction).set_default_preset(person_of(interaction), name.value)
    await private(interaction, text("preset_set", lang(interaction), preset=user.default_preset))


@app_commands.command(name="help", description="How to write a prompt, and the options")
async def help_(interaction: discord.Interaction) -> None:
    code = lang(interaction)
    await private(interaction, f"{say('help_discord', code)}\n\n{help_text(code)}")


PUBLIC = [animate, animate_message, quota, queue, cancel, history, presets, preset, help_]
