"""The one status message of a job, edited in place: throttled, identical edits skipped.

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

from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.models import ChatRef, Job

log = logging.getLogger(__name__)

PRIVATE_INTERVAL = 1.0  # seconds between progress edits: Telegram allows ~1 message/s a chat
GROUP_INTERVAL = 3.0  # and ~20 a minute in a group


class ChatGone(Exception):
    """The bot was blocked, kicked, or the chat was deleted."""


@dataclass
class _Shown:
    message_id: int | None
    text: str = ""
    markup: Any = None
    at: float = -math.inf  # when it was last changed: never


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
                   force: bool = True) -> None:
        """Edit the job's status message to `text`; a throttled (force=False) edit is
        dropped when the last one is too recent, as a newer one will follow."""
        shown = self._shown.setdefault(job.id, _Shown(
            int(job.chat.status_message) if job.chat.status_message else None))
        markup_data = markup.to_dict() if markup else None
        if shown.message_id is not None and text == shown.text \
                and markup_data == shown.markup:
            return
        now = self.clock()
        if not force and now - shown.at < self.interval(job):
            return
        chat_id = int(job.chat.chat_id)
        resend = shown.message_id is None
        try:
            if not resend:
                await self.bot.edit_message_text(text, chat_id=chat_id,
                                                 message_id=shown.message_id,
                                                 reply_markup=markup)
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

    async def _send(self, job: Job, shown: _Shown, text: str,
                    markup: InlineKeyboardMarkup | None) -> None:
        thread = int(job.chat.thread_id) if job.chat.thread_id else None
        message = await self.bot.send_message(int(job.chat.chat_id), text, reply_markup=markup,
                                              reply_parameters=reply_to(job.chat),
                                              message_thread_id=thread)
        shown.message_id = message.message_id

    def forget(self, job_id: str) -> None:
        self._shown.pop(job_id, None)
