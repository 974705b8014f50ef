"""Starting jobs from Discord: check the attachment, defer, download, hand the core a
request; and the same for a re-roll or a better-quality button."""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Any

import discord

from bot.models import JobRequest
from bot.service import Core
from engine.errors import UserError

from .replies import chat_of, defer_public, lang, person_of, private, refuse
from .strings import say

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 25 * 2**20  # what we download; the engine also limits the pixel count
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def image_problem(attachment: discord.Attachment, lang_code: str) -> str | None:
    """Why an attachment cannot be animated, judged from its metadata before download."""
    kind = (attachment.content_type or "").split(";")[0].strip().lower()
    is_image = kind.startswith("image/") if kind else (
        PurePosixPath(attachment.filename).suffix.lower() in IMAGE_SUFFIXES)
    if not is_image:
        return say("not_an_image", lang_code, name=attachment.filename)
    if attachment.size > MAX_IMAGE_BYTES:
        return say("image_too_big", lang_code, name=attachment.filename,
                   size_mb=attachment.size / 2**20, limit_mb=MAX_IMAGE_BYTES / 2**20)
    return None


def first_image(message: discord.Message) -> discord.Attachment | None:
    for attachment in message.attachments:
        if image_problem(attachment, "en") is None:
            return attachment
    return None


async def animate(core: Core, interaction: discord.Interaction,
                  attachment: discord.Attachment, caption: str, *, preset: str | None = None,
                  seed: int | None = None, overrides: dict[str, Any] | None = None) -> None:
    problem = image_problem(attachment, lang(interaction))
    if problem is not None:
        await private(interaction, problem)
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


async def again(core: Core, interaction: discord.Interaction, job_id: str,
                better: bool) -> None:
    """A button under a video: the same photo again, re-rolled or one preset better."""
    person = person_of(interaction)
    await core.own_job(person, job_id)  # strangers are refused before anything shows
    await defer_public(interaction)
    job = await core.again(person, job_id, better=better, chat=chat_of(interaction))
    log.info("job %s user %s: %s of job %s", job.id, person.key,
             "better quality" if better else "re-roll", job_id)
