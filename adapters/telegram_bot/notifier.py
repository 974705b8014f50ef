"""Renders job events in Telegram: the status message, then the video with its buttons.

A video counts as delivered only once Telegram has confirmed the upload; until then the job
stays 'done' and a restart sends it again. A video Telegram refuses for good (too big, the
chat blocked the bot) is reported to the core, which gives the credits back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, TelegramError

from adapters.lanes import Lanes
from adapters.telegram_bot.keyboards import result_keyboard, status_keyboard
from adapters.telegram_bot.limits import Limits, thumbnail
from adapters.telegram_bot.people import PLATFORM
from adapters.telegram_bot.status import ChatGone, StatusMessages, reply_to
from bot.events import Delivery
from bot.models import EventKind, Job, JobEvent
from bot.texts import text
from bot.views import mib, result_caption, status_line
from engine.spec.work import Video

log = logging.getLogger(__name__)

ACTION_EVERY = 4.5  # a chat action shows for 5 s; repeat it while an upload lasts
UPLOAD_TIMEOUT = 300.0


class TelegramNotifier:
    """The core's Notifier for Telegram jobs. `notify` never waits on the network: events go
    into their chat's lane, which shows them once the bot is attached."""

    def __init__(self, limits: Limits, delivery: Delivery) -> None:
        self.limits = limits
        self.delivery = delivery
        self.lanes = Lanes(self.render)
        self.gone: set[int] = set()  # chats that blocked the bot, until they write again
        self._bot: Bot | None = None
        self._status: StatusMessages | None = None
        self._ready = asyncio.Event()

    def attach(self, bot: Bot, status: StatusMessages) -> None:
        self._bot, self._status = bot, status
        self._ready.set()

    async def notify(self, event: JobEvent) -> None:
        if event.job.platform == PLATFORM:
            self.lanes.put(event.job.chat.chat_id, event)

    async def close(self) -> None:
        await self.lanes.close()

    async def render(self, event: JobEvent) -> None:
        await self._ready.wait()
        assert self._status is not None
        job, status = event.job, self._status
        chat_id = int(job.chat.chat_id)
        if chat_id in self.gone:
            log.info("job %s chat %s: chat blocked the bot; %s event dropped", job.id, chat_id,
                     event.kind)
            if event.kind is EventKind.DONE:
                await self.delivery.undeliverable(job.id, "chat_gone")
            return
        line = status_line(event)
        try:
            if event.kind.live:  # cancel stays under the preview
                await status.show(job, line, status_keyboard(job, event.language),
                                  force=event.kind is not EventKind.PROGRESS,
                                  preview=event.preview)
                return
            status.drop_preview(job.id)  # past denoising: the video comes next
            if event.kind is EventKind.ENCODING:
                await status.show(job, line)
                return
            if event.kind is EventKind.DONE and event.result is not None:
                await self._send_video(job, event.result, event.language)
            await status.show(job, line)
        except ChatGone as exc:
            log.warning("job %s chat %s: the bot cannot write here (%s)", job.id, chat_id, exc)
            self.gone.add(chat_id)
            if event.kind is EventKind.DONE:
                await self.delivery.undeliverable(job.id, "chat_gone")
        finally:
            if not event.kind.live and event.kind is not EventKind.ENCODING:
                status.forget(job.id)

    async def _send_video(self, job: Job, result: Video, lang: str) -> None:
        assert self._bot is not None
        chat_id, bot = int(job.chat.chat_id), self._bot
        limit = job.chat.upload_limit or self.limits.upload_bytes
        if result.size_bytes > limit:
            await self._say(job, text("video_too_big", lang, size_mib=mib(result.size_bytes),
                                      limit_mib=mib(limit)))
            await self.delivery.undeliverable(job.id, "video_too_big")
            return
        thumb = await asyncio.to_thread(thumbnail, result.poster)
        try:
            async with _uploading(bot, chat_id):
                with result.path.open("rb") as video:
                    await bot.send_video(
                        chat_id, video, supports_streaming=True, width=result.width,
                        height=result.height, duration=max(1, math.ceil(result.duration)),
                        thumbnail=thumb, caption=result_caption(job, result, lang,
                                                                self.limits.caption_chars),
                        reply_markup=result_keyboard(job, lang),
                        reply_parameters=reply_to(job.chat),
                        message_thread_id=_thread(job), read_timeout=UPLOAD_TIMEOUT,
                        write_timeout=UPLOAD_TIMEOUT)
        except Forbidden as exc:
            raise ChatGone(str(exc)) from exc
        except BadRequest as exc:  # Telegram will never take this file here
            log.warning("job %s chat %s: the video was refused: %s", job.id, chat_id, exc)
            too_big = "too large" in str(exc).lower() or "too big" in str(exc).lower()
            await self._say(job, text("video_too_big", lang, size_mib=mib(result.size_bytes),
                                      limit_mib=mib(limit)) if too_big
                            else text("upload_failed", lang))
            await self.delivery.undeliverable(job.id, "video_too_big" if too_big
                                              else "upload_failed")
            return
        except TelegramError as exc:
            # Network trouble or flood control past its retries: the job stays 'done' and
            # the next start sends the video again.
            log.warning("job %s chat %s: sending the video failed, kept for a retry: %s",
                        job.id, chat_id, exc)
            return
        await self.delivery.delivered(job.id)
        log.info("job %s chat %s: video sent (%d bytes)", job.id, chat_id, result.size_bytes)

    async def _say(self, job: Job, message: str) -> None:
        assert self._bot is not None
        try:
            await self._bot.send_message(int(job.chat.chat_id), message,
                                         reply_parameters=reply_to(job.chat),
                                         message_thread_id=_thread(job))
        except Forbidden as exc:
            raise ChatGone(str(exc)) from exc
        except TelegramError as exc:
            log.warning("job %s chat %s: message failed: %s", job.id, job.chat.chat_id, exc)


def _thread(job: Job) -> int | None:
    return int(job.chat.thread_id) if job.chat.thread_id else None


@contextlib.asynccontextmanager
async def _uploading(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show 'sending a video…' in the chat for as long as the upload takes."""

    async def action() -> None:
        with contextlib.suppress(TelegramError):
            await bot.send_chat_action(chat_id, ChatAction.UPLOAD_VIDEO)

    async def repeat() -> None:
        while True:
            await asyncio.sleep(ACTION_EVERY)
            await action()

    await action()

    task = asyncio.create_task(repeat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
