"""A new job that grows out of an earlier one (re-roll, better quality, extend): a fresh
status message under the message that asked, which the job's events then edit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Message, ReplyParameters
from telegram.error import TelegramError

from adapters.telegram_bot.deps import Deps, chat_ref
from bot.errors import UserError
from bot.models import ChatRef, Job, Person
from bot.texts import error_text, text

log = logging.getLogger(__name__)

Start = Callable[[ChatRef], Awaitable[Job]]


async def follow_up(deps: Deps, under: Message, person: Person, lang_code: str | None,
                    lang: str, start: Start, what: str) -> None:
    """Post "checking…" under `under`, start the job there; a refusal replaces the text."""
    status = await under.get_bot().send_message(
        under.chat.id, text("downloading", lang),
        reply_parameters=ReplyParameters(under.message_id, allow_sending_without_reply=True))
    thread = under.message_thread_id if under.is_topic_message else None
    chat = chat_ref(deps, under.chat, status.message_id, under.message_id, lang_code, thread)
    try:
        job = await start(chat)
    except Exception as exc:  # the status must not keep saying "checking the photo"
        if isinstance(exc, UserError):
            answer = error_text(exc, lang)
        else:
            log.exception("user %s: the %s could not be queued", person.key, what)
            answer = text("internal_error", lang)
        try:
            await status.edit_text(answer)
        except TelegramError as edit_error:
            log.warning("user %s: refusal not shown: %s", person.key, edit_error)
        return
    log.info("job %s user %s: %s queued", job.id, person.key, what)
