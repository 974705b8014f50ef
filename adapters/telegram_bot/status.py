"""The one status message of a job, edited in place: throttled, identical edits skipped.

A live preview turns it into a photo message (editMessageMedia adds the photo to the text
message; its text becomes the caption), and each newer preview replaces the photo in the
same edit as the text, within the same throttle: a preview that arrives too soon waits for
the next edit, and a newer one replaces it meanwhile. A preview Telegram refuses is dropped
(a refused one ends the previews of that job); the text goes on as before.

A deleted or uneditable status message is replaced by a new one; a chat that blocked the bot
raises `ChatGone` so the notifier can stop spending requests on it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto, ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.models import ChatRef, Job

log = logging.getLogger(__name__)

PRIVATE_INTERVAL = 1.0  # seconds between progress edits: Telegram allows ~1 message/s a chat
GROUP_INTERVAL = 3.0  # and ~20 a minute in a group
PREVIEW_TIMEOUT = 10.0  # seconds a preview's upload may take before it is given up
CAPTION_LIMIT = 1024  # a photo's caption, where a text message allows 4096


class ChatGone(Exception):
    """The bot was blocked, kicked, or the chat was deleted."""


@dataclass
class _Shown:
    message_id: int | None
    text: str = ""
    markup: Any = None
    at: float = -math.inf  # when it was last changed: never
    photo: bool = False  # it shows a preview: its text is the photo's caption
    preview: bytes | None = None  # the newest preview, not yet shown
    previews_refused: bool = False  # Telegram refused one: text only from now on


def reply_to(chat: ChatRef) -> ReplyParameters | None:
    return (ReplyParameters(int(chat.reply_to), allow_sending_without_reply=True)
            if chat.reply_to else None)


class StatusMessages:
    def __init__(self, bot: Bot, private_interval: float = PRIVATE_INTERVAL,
                 group_interval: float = GROUP_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bot = bot
        self.private_interval = private_interval
        self.group_interval = group_interval
        self.clock = clock
        self._shown: dict[str, _Shown] = {}

    def interval(self, job: Job) -> float:
        return self.private_interval if job.chat.private else self.group_interval

    async def show(self, job: Job, text: str, markup: InlineKeyboardMarkup | None = None, *,
                   force: bool = True, preview: bytes | None = None) -> None:
        """Edit the job's status message to `text` (and `preview`, a JPEG, as its photo); a
        throttled (force=False) edit is dropped when the last one is too recent, as a newer
        one will follow, but its preview waits for that one."""
        shown = self._shown.setdefault(job.id, _Shown(
            int(job.chat.status_message) if job.chat.status_message else None))
        if preview is not None and not shown.previews_refused:
            shown.preview = preview  # replaces one not yet shown
        markup_data = markup.to_dict() if markup else None
        if shown.message_id is not None and text == shown.text \
                and markup_data == shown.markup and shown.preview is None:
            return
        now = self.clock()
        if not force and now - shown.at < self.interval(job):
            return
        chat_id = int(job.chat.chat_id)
        resend = shown.message_id is None
        try:
            if not resend:
                await self._edit(job, shown, text, markup)
        except BadRequest as exc:
            reason = str(exc).lower()
            resend = "not found" in reason or "can't be edited" in reason
            if resend:
                log.info("job %s chat %s: status message gone (%s); sending a new one",
                         job.id, chat_id, exc)
            elif "not modified" not in reason:
                log.warning("job %s chat %s: status edit refused: %s", job.id, chat_id, exc)
                return
        except Forbidden as exc:
            raise ChatGone(str(exc)) from exc
        except TelegramError as exc:  # network, timeouts, RetryAfter past its retries
            log.warning("job %s chat %s: status edit failed: %s", job.id, chat_id, exc)
            return
        if resend:
            try:
                await self._send(job, shown, text, markup)
            except Forbidden as exc:
                raise ChatGone(str(exc)) from exc
            except TelegramError as exc:
                log.warning("job %s chat %s: status message failed: %s", job.id, chat_id, exc)
                return
        shown.text, shown.markup, shown.at = text, markup_data, now

    async def _edit(self, job: Job, shown: _Shown, text: str,
                    markup: InlineKeyboardMarkup | None) -> None:
        """One edit: the newest preview with the text as its caption, else the text (the
        caption, once the message is a photo)."""
        assert shown.message_id is not None
        chat_id, message_id = int(job.chat.chat_id), shown.message_id
        if shown.preview is not None:
            image, shown.preview = shown.preview, None
            try:
                await self.bot.edit_message_media(
                    InputMediaPhoto(image, caption=text[:CAPTION_LIMIT]), chat_id=chat_id,
                    message_id=message_id, reply_markup=markup, read_timeout=PREVIEW_TIMEOUT,
                    write_timeout=PREVIEW_TIMEOUT)
                shown.photo = True
                return
            except BadRequest as exc:
                reason = str(exc).lower()
                if "not found" in reason or "can't be edited" in reason:
                    raise  # the message is gone: a new one is sent (without the preview)
                log.warning("job %s chat %s: preview refused, none more for this job: %s",
                            job.id, chat_id, exc)
                shown.previews_refused = True
            except Forbidden:
                raise
            except TelegramError as exc:  # network, timeouts: the next preview may pass
                log.warning("job %s chat %s: preview not sent: %s", job.id, chat_id, exc)
        if shown.photo:
            await self.bot.edit_message_caption(chat_id=chat_id, message_id=message_id,
                                                caption=text[:CAPTION_LIMIT],
                                                reply_markup=markup)
        else:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                             reply_markup=markup)

    async def _send(self, job: Job, shown: _Shown, text: str,
                    markup: InlineKeyboardMarkup | None) -> None:
        thread = int(job.chat.thread_id) if job.chat.thread_id else None
        message = await self.bot.send_message(int(job.chat.chat_id), text, reply_markup=markup,
                                              reply_parameters=reply_to(job.chat),
                                              message_thread_id=thread)
        shown.message_id, shown.photo = message.message_id, False

    def drop_preview(self, job_id: str) -> None:
        """Forget a preview still waiting for its edit."""
        shown = self._shown.get(job_id)
        if shown is not None:
            shown.preview = None

    def forget(self, job_id: str) -> None:
        self._shown.pop(job_id, None)
