"""Starting jobs from Discord: check the attachment, defer, download, hand the core a
request; and the same for a re-roll or a better-quality button."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import discord

from bot.errors import UserError
from bot.models import JobRequest
from bot.photos import check_upload, is_upload_ok
from bot.ports import CorePort
from bot.views import advice, result_actions

from .replies import chat_of, defer_public, lang, person_of, refuse

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 25 * 2**20  # what we download; the engine also limits the pixel count


def first_image(message: discord.Message) -> discord.Attachment | None:
    return next((a for a in message.attachments
                 if is_upload_ok(a.filename, a.content_type)), None)


async def animate(core: CorePort, interaction: discord.Interaction,
                  attachment: discord.Attachment, caption: str, *, preset: str | None = None,
                  seed: int | None = None, overrides: Mapping[str, Any] | None = None) -> None:
    try:  # every refusal that needs no download is said at once, privately
        check_upload(attachment.filename, attachment.content_type, attachment.size,
                     MAX_IMAGE_BYTES)
        core.check_caption(caption, preset=preset, overrides=overrides)
    except UserError as exc:
        await refuse(interaction, exc)
        return
    await defer_public(interaction)
    try:
        data = await attachment.read()
        job = await core.submit(JobRequest(
            person=person_of(interaction), chat=chat_of(interaction), image=data,
            caption=caption, preset=preset, seed=seed, overrides=overrides or {}))
    except (UserError, discord.HTTPException) as exc:
        await refuse(interaction, exc)
        return
    log.info("job %s user discord:%s: submitted from interaction %s", job.id,
             interaction.user.id, interaction.id)
    lines = advice(job.params, lang(interaction))
    if lines:  # once, to the person alone; the public message stays the job's status
        try:
            await interaction.followup.send("\n".join(lines), ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("job %s: advice not sent: %s", job.id, exc)


async def again(core: CorePort, interaction: discord.Interaction, job_id: str,
                better: bool) -> None:
    """A button under a video: the same photo again, re-rolled or one preset better."""
    person = person_of(interaction)
    job = await core.own_job(person, job_id)  # strangers are refused before anything shows
    if better and "better" not in result_actions(job):
        raise UserError("top_preset")
    await defer_public(interaction)
    job = await core.again(person, job_id, better=better, chat=chat_of(interaction))
    log.info("job %s user %s: %s of job %s", job.id, person.key,
             "better quality" if better else "re-roll", job_id)


async def extend(core: CorePort, interaction: discord.Interaction, job_id: str,
                 prompt: str | None = None) -> None:
    """Continue a finished video from its last frame (the same prompt, or a new one)."""
    person = person_of(interaction)
    await core.own_job(person, job_id)  # strangers are refused before anything shows
    await defer_public(interaction)
    job = await core.extend(person, job_id, prompt, chat_of(interaction))
    log.info("job %s user %s: extension of job %s", job.id, person.key, job_id)
