"""Inline buttons: re-roll (new seed), better quality (same seed, next preset), cancel.

Only the person who asked may press them; every query is answered at once so the button
stops spinning, with a short alert for strangers and refusals.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from adapters.telegram_bot.deps import Deps, chat_ref
from adapters.telegram_bot.keyboards import parse
from adapters.telegram_bot.people import lang_of, person_of
from bot.errors import UserError
from bot.models import ChatRef, Person
from bot.texts import error_text, text
from engine.params import next_preset

log = logging.getLogger(__name__)


class Buttons:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.core = deps.core

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CallbackQueryHandler(self.on_button))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        parsed = parse(query.data)
        lang = lang_of(query.from_user)
        if parsed is None:
            await query.answer()
            return
        action, job_id = parsed
        person = person_of(query.from_user)
        try:
            job = await self.core.own_job(person, job_id)
        except UserError:
            log.info("user %s pressed %s on job %s, which is not theirs", person.key, action,
                     job_id)
            await query.answer(text("not_yours", lang), show_alert=True)
            return
        if action == "cancel":
            try:
                job = await self.core.cancel(person, job.id)
            except UserError as exc:
                await query.answer(error_text(exc, lang), show_alert=True)
                return
            await query.answer(text("cancelling", lang, job=job.id))
            return
        better = action == "better"
        if better and next_preset(job.params.preset) is None:
            await query.answer(text("top_preset", lang), show_alert=True)
            return
        await query.answer()
        await self._again(query, person, job.id, job.chat, better, lang)

    async def _again(self, query: CallbackQuery, person: Person, job_id: str,
                     old_chat: ChatRef, better: bool, lang: str) -> None:
        message = query.message
        if message is None:
            return
        # A new status message under the message whose button was pressed.
        status = await query.get_bot().send_message(
            message.chat.id, text("downloading", lang),
            reply_parameters=ReplyParameters(message.message_id,
                                             allow_sending_without_reply=True))
        chat = chat_ref(self.deps, message.chat, status.message_id,
                        int(old_chat.reply_to) if old_chat.reply_to else message.message_id,
                        query.from_user.language_code,
                        int(old_chat.thread_id) if old_chat.thread_id else None)
        try:
            new = await self.core.again(person, job_id, better=better, chat=chat)
        except Exception as exc:  # the status must not keep saying "checking the photo"
            if isinstance(exc, UserError):
                answer = error_text(exc, lang)
            else:
                log.exception("job %s user %s: the new job could not be queued", job_id,
                              person.key)
                answer = text("internal_error", lang)
            try:
                await status.edit_text(answer)
            except TelegramError as edit_error:
                log.warning("job %s: refusal not shown: %s", job_id, edit_error)
            return
        log.info("job %s user %s: %s of job %s", new.id, person.key,
                 "better quality" if better else "re-roll", job_id)

