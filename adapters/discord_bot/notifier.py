"""Shows job events in Discord: the interaction's "thinking…" message is edited in place
while its token lives, a live preview attached to it as the job renders (each newer one
replacing the last, within the same edit throttle); the video comes as a follow-up. A job
that ends after the token's 15 minutes is posted as a channel message that mentions the
person (or, where the bot may not post, sent by direct message). A video counts as
delivered only once Discord confirmed one of these; if none works, the core gives the
credits back."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import discord

from adapters.lanes import Lanes
from bot.events import Delivery
from bot.models import EventKind, JobEvent
from bot.texts import text
from bot.views import mib, result_actions, result_caption, status_line

from .buttons import job_view
from .replies import Followup

log = logging.getLogger(__name__)

TOKEN_TTL = 14.5 * 60  # Discord's interaction tokens live 15 minutes
PROGRESS_EVERY = 1.5  # seconds between progress edits of one message (rate limits)
MESSAGE_LIMIT = 2000
ORIGINAL = cast(int, "@original")  # Discord's id of an interaction's first answer


class DiscordNotifier:
    def __init__(self, client: discord.Client, delivery: Delivery,
                 token_ttl: float = TOKEN_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.delivery = delivery
        self.token_ttl = token_ttl
        self.clock = clock
        self._last_progress: dict[str, float] = {}
        self._previews: dict[str, bytes] = {}  # job id -> the newest preview, not yet shown
        # One lane per job: its events stay in order, and one person's slow upload does not
        # hold back everyone else's progress.
        self.lanes = Lanes(self.render)

    async def notify(self, event: JobEvent) -> None:
        self.lanes.put(event.job.id, event)

    async def close(self) -> None:
        await self.lanes.close()

    async def render(self, event: JobEvent) -> None:
        job = event.job
        followup = Followup.decode(job.chat.handle)
        if followup is None:
            log.warning("job %s: no Discord interaction to answer; %s not shown", job.id,
                        event.kind)
            return
        fresh = time.time() - followup.received_at < self.token_ttl
        if event.preview is not None:
            self._previews[job.id] = event.preview  # replaces one not yet shown
        if event.kind.final:
            self._last_progress.pop(job.id, None)
            self._previews.pop(job.id, None)
            await self._final(event, followup, fresh)
        elif fresh and self._due(event):
            await self._status(event, followup)

    def _due(self, event: JobEvent) -> bool:
        if event.kind is not EventKind.PROGRESS:
            return True
        now, last = self.clock(), self._last_progress.get(event.job.id)
        if last is not None and now - last < PROGRESS_EVERY and event.step < event.total_steps:
            return False
        self._last_progress[event.job.id] = now
        return True

    def _webhook(self, followup: Followup) -> discord.Webhook:
        return discord.Webhook.partial(followup.application_id, followup.token,
                                       client=self.client)

    async def _status(self, event: JobEvent, followup: Followup) -> None:
        job = event.job
        view = (job_view(job.id, event.language, "cancel") if event.kind.live
                else None)
        preview = self._previews.pop(job.id, None) if event.kind.live else None
        extras: dict[str, Any] = {}
        if preview is not None:  # replaces the last one: the message keeps one image
            extras["attachments"] = [discord.File(io.BytesIO(preview),
                                                  filename=f"i2v-{job.id}-preview.jpg")]
        try:
            await self._webhook(followup).edit_message(
                ORIGINAL, content=status_line(event)[:MESSAGE_LIMIT], view=view, **extras)
        except discord.HTTPException as exc:
            log.warning("job %s: status edit (%s%s) failed: %s", job.id, event.kind,
                        " with a preview" if preview else "", exc)

    async def _final(self, event: JobEvent, followup: Followup, fresh: bool) -> None:
        job, lang, result = event.job, event.language, event.result
        limit = job.chat.upload_limit
        video, view = None, None
        if event.kind is EventKind.DONE and result is not None:
            if limit and result.size_bytes > limit:
                content = text("video_too_big", lang, size_mib=mib(result.size_bytes),
                               limit_mib=mib(limit))
            else:
                content = result_caption(job, result, lang, limit=MESSAGE_LIMIT - 40)
                video = result.path
                view = job_view(job.id, lang, *result_actions(job))
        else:
            content = status_line(event)
        sent = False
        if fresh:
            try:
                await self._finish_interaction(event, followup, content, video, view)
                sent = True
            except discord.HTTPException as exc:
                log.warning("job %s: answering the interaction failed (%s); posting in the "
                            "channel instead", job.id, exc)
        if not sent:
            sent = await self._post_late(event, followup, content, video, view)
        if event.kind is EventKind.DONE:
            if sent and video is not None:
                await self.delivery.delivered(job.id)
            else:
                await self.delivery.undeliverable(job.id, "video_too_big" if sent
                                                  else "upload_failed")

    async def _finish_interaction(self, event: JobEvent, followup: Followup, content: str,
                                  video: Path | None, view: discord.ui.View | None) -> None:
        webhook = self._webhook(followup)
        if event.kind is not EventKind.DONE:
            await webhook.edit_message(ORIGINAL, content=content[:MESSAGE_LIMIT], view=None)
            return
        # The status message may have scrolled far up while the job waited: it says "done",
        # and the video arrives as a new message at the bottom.
        await webhook.edit_message(ORIGINAL, content=status_line(event), view=None)
        await webhook.send(content=content[:MESSAGE_LIMIT], wait=True,
                           **_extras(event, video, view))
        log.info("job %s: video sent as a follow-up", event.job.id)

    async def _post_late(self, event: JobEvent, followup: Followup, content: str,
                         video: Path | None, view: discord.ui.View | None) -> bool:
        """In the channel with a mention, else by direct message; whether either worked."""
        job = event.job
        mention = (text("late_result", event.language, mention=f"<@{followup.user_id}>",
                        job=job.id)
                   if event.kind is EventKind.DONE else f"<@{followup.user_id}>")
        if job.chat.chat_id:
            channel = self.client.get_partial_messageable(int(job.chat.chat_id))
            try:
                await channel.send(content=f"{mention}\n{content}"[:MESSAGE_LIMIT],
                                   allowed_mentions=discord.AllowedMentions(users=True),
                                   **_extras(event, video, view))
                log.info("job %s: %s posted in channel %s", job.id, event.kind,
                         job.chat.chat_id)
                return True
            except discord.HTTPException as exc:  # a slash command works where we may not post
                log.warning("job %s: posting in channel %s failed (%s); trying a DM", job.id,
                            job.chat.chat_id, exc)
        try:
            user = await self.client.fetch_user(followup.user_id)
            await user.send(content=content[:MESSAGE_LIMIT], **_extras(event, video, view))
        except discord.HTTPException as exc:
            log.error("job %s: %s could not be shown anywhere: %s", job.id, event.kind, exc)
            return False
        log.info("job %s: %s sent by direct message", job.id, event.kind)
        return True


def _extras(event: JobEvent, video: Path | None,
            view: discord.ui.View | None) -> dict[str, Any]:
    """The attachment (a new File each try: discord.py closes it after a request) and
    the buttons of a message."""
    extras: dict[str, Any] = {}
    if video is not None:
        extras["file"] = discord.File(video, filename=f"i2v-{event.job.id}.mp4")
    if view is not None:
        extras["view"] = view
    return extras
