"""Inline buttons: re-roll (new seed), better quality (same seed, next preset), extend (the
video continued from its last frame), cancel.

Only the person who asked may press them; every query is answered at once so the button
stops spinning, with a short alert for strangers and refusals.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from adapters.telegram_bot.deps import Deps
from adapters.telegram_bot.followups import follow_up
from adapters.telegram_bot.keyboards import parse
from adapters.telegram_bot.people import lang_of, person_of
from bot.errors import UserError
from bot.models import ChatRef, Job
from bot.texts import error_text, text
from bot.views import result_actions

log = logging.getLogger(__name__)


class Buttons:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.core = deps.core

    def register(self, application: Application) -> None:
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
        if action not in result_actions(job):
            await query.answer(text("top_preset", lang), show_alert=True)
            return
        await query.answer()
        if not isinstance(query.message, Message):  # too old for the bot to answer under
            return
        if action == "extend":
            def start(chat: ChatRef) -> Awaitable[Job]:
                return self.core.extend(person, job.id, chat=chat)
        else:
            def start(chat: ChatRef) -> Awaitable[Job]:
                return self.core.again(person, job.id, better=better, chat=chat)
        await follow_up(self.deps, query.message, person, query.from_user.language_code, lang,
                        start, {"extend": "extension", "better": "better quality"}.get(
                            action, "re-roll"))
