"""Shows job events in Discord: the interaction's "thinking…" message is edited in place
while its token lives; the video comes as a follow-up. A job that ends after the token's
15 minutes is posted as a channel message that mentions the person."""

from __future__ import annotations

import logging
import time

import discord

from adapters.lanes import Lanes
from bot.models import EventKind, JobEvent
from bot.texts import result_caption, status_text, text

from .buttons import job_view

log = logging.getLogger(__name__)

TOKEN_TTL = 14.5 * 60  # Discord's interaction tokens live 15 minutes
PROGRESS_EVERY = 1.5  # seconds between progress edits of one message (rate limits)
MESSAGE_LIMIT = 2000
FINAL = (EventKind.DONE, EventKind.FAILED, EventKind.CANCELLED)
CANCELLABLE = (EventKind.QUEUED, EventKind.STARTED, EventKind.PROGRESS)


class DiscordNotifier:
    def __init__(self, client: discord.Client, token_ttl: float = TOKEN_TTL) -> None:
        self.client = client
        self.token_ttl = token_ttl
        self._last_progress: dict[str, float] = {}
        # One lane per job: its events stay in order, and one person's slow upload does not
        # hold back everyone else's progress.
        self.lanes = Lanes(self.render)

    async def notify(self, event: JobEvent) -> None:
        self.lanes.put(event.job.id, event)

    async def close(self) -> None:
        await self.lanes.close()

    async def render(self, event: JobEvent) -> None:
        job, chat = event.job, event.job.chat
        if not chat.get("interaction_token"):
            log.warning("job %s: no Discord interaction to answer; %s not shown", job.id,
                        event.kind)
            return
        fresh = time.time() - float(chat.get("token_created_at", 0)) < self.token_ttl
        if event.kind in FINAL:
            self._last_progress.pop(job.id, None)
            await self._final(event, fresh)
        elif fresh and self._due(event):
            await self._status(event)

    def _due(self, event: JobEvent) -> bool:
        if event.kind is not EventKind.PROGRESS:
            return True
        now, last = time.monotonic(), self._last_progress.get(event.job.id)
        if last is not None and now - last < PROGRESS_EVERY and event.step < event.total_steps:
            return False
        self._last_progress[event.job.id] = now
        return True

    def _webhook(self, chat: dict) -> discord.Webhook:
        return discord.Webhook.partial(int(chat["application_id"]), chat["interaction_token"],
                                       client=self.client)

    async def _status(self, event: JobEvent) -> None:
        job = event.job
        content = status_text(event) + (f"\n{event.message}" if event.message else "")
        view = (job_view(job.id, event.language, "cancel") if event.kind in CANCELLABLE
                else None)
        try:
            await self._webhook(job.chat).edit_message("@original", content=content[:2000],
                                                       view=view)
        except discord.HTTPException as exc:
            log.warning("job %s: status edit (%s) failed: %s", job.id, event.kind, exc)

    async def _final(self, event: JobEvent, fresh: bool) -> None:
        job, lang = event.job, event.language
        result = event.result
        max_bytes = job.chat.get("max_bytes")
        file = None
        if event.kind is EventKind.DONE and result is not None:
            if max_bytes and result.size_bytes > max_bytes:
                content = text("video_too_big", lang, size_mb=result.size_bytes / 2**20,
                               limit_mb=max_bytes / 2**20)
            else:
                content = result_caption(job, result, lang, limit=MESSAGE_LIMIT - 40)
                file = discord.File(result.path, filename=f"i2v-{job.id}.mp4")
            view = job_view(job.id, lang, "reroll", "better")
        else:
            content = status_text(event) + (f"\n{event.message}"
                                            if event.message and event.kind is EventKind.CANCELLED
                                            else "")
            view = None
        if fresh:
            try:
                await self._finish_interaction(event, content, file, view)
                return
            except discord.HTTPException as exc:
                log.warning("job %s: answering the interaction failed (%s); posting in the "
                            "channel instead", job.id, exc)
                if file is not None:
                    file.reset()
        await self._post_in_channel(event, content, file, view)

    async def _finish_interaction(self, event: JobEvent, content: str,
                                  file: discord.File | None, view: discord.ui.View | None) -> None:
        webhook = self._webhook(event.job.chat)
        if event.kind is not EventKind.DONE:
            await webhook.edit_message("@original", content=content[:MESSAGE_LIMIT], view=None)
            return
        # The status message may have scrolled far up while the job waited: it says "done",
        # and the video arrives as a new message at the bottom.
        await webhook.edit_message("@original", content=status_text(event), view=None)
        kwargs: dict = {"file": file} if file is not None else {}
        if view is not None:
            kwargs["view"] = view
        await webhook.send(content=content[:MESSAGE_LIMIT], wait=True, **kwargs)
        log.info("job %s: video sent as a follow-up", event.job.id)

    async def _post_in_channel(self, event: JobEvent, content: str, file: discord.File | None,
                               view: discord.ui.View | None) -> None:
        job = event.job
        channel_id, user_id = job.chat.get("channel_id"), job.chat.get("user_id")
        if not channel_id:
            log.error("job %s: token expired and no channel known; result not shown", job.id)
            return
        mention = (text("late_result", event.language, mention=f"<@{user_id}>", job=job.id)
                   if event.kind is EventKind.DONE else f"<@{user_id}>")
        channel = self.client.get_partial_messageable(int(channel_id))
        kwargs: dict = {"file": file} if file is not None else {}
        if view is not None:
            kwargs["view"] = view
        body = f"{mention}\n{content}"[:MESSAGE_LIMIT]
        try:
            await channel.send(content=body, allowed_mentions=discord.AllowedMentions(users=True),
                               **kwargs)
            log.info("job %s: %s posted in channel %s", job.id, event.kind, channel_id)
            return
        except discord.HTTPException as exc:  # a slash command works where we may not post
            log.warning("job %s: posting in channel %s failed (%s); trying a DM", job.id,
                        channel_id, exc)
        if file is not None and event.result is not None:  # discord.py closed the first one
            kwargs["file"] = discord.File(event.result.path, filename=file.filename)
        user = await self.client.fetch_user(int(user_id))
        await user.send(content=content[:MESSAGE_LIMIT], **kwargs)
        log.info("job %s: %s sent by direct message", job.id, event.kind)
