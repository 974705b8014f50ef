"""The slash commands: help, presets, quota, queue, cancel, history, and /admin. The replies
are the core's shared views; this module only sends them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import BotCommand, Message, Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from adapters.telegram_bot.deps import Deps
from adapters.telegram_bot.errors import answers_user_errors
from adapters.telegram_bot.followups import follow_up
from adapters.telegram_bot.keyboards import job_of
from adapters.telegram_bot.limits import shorten
from adapters.telegram_bot.people import lang_of, person_of
from adapters.telegram_bot.shop import COMMANDS as SHOP_COMMANDS
from bot.admin import admin_help
from bot.errors import UserError
from bot.models import ChatRef, Job, JobStatus, Person
from bot.texts import text
from bot.views import help_reply, history_reply, presets_reply, queue_reply, quota_reply

log = logging.getLogger(__name__)

MENU = ("animate", "extend", "help", "presets", "preset", "quota", "queue", "cancel",
        "history")


def command_menu(lang: str, selling: bool = False) -> list[BotCommand]:
    names = MENU + (SHOP_COMMANDS if selling else ())
    return [BotCommand(name, text(f"tg_cmd_{name}", lang)) for name in names]


class Commands:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.core = deps.core

    def register(self, application: Application) -> None:
        for name, callback in (("start", self.start), ("help", self.help),
                               ("presets", self.presets), ("preset", self.preset),
                               ("quota", self.quota), ("queue", self.queue),
                               ("cancel", self.cancel), ("history", self.history),
                               ("extend", self.extend), ("admin", self.admin)):
            application.add_handler(CommandHandler(name, callback,
                                                   filters=filters.UpdateType.MESSAGE))

    @staticmethod
    def _who(update: Update) -> tuple[Message, Person, str]:
        message, user = update.effective_message, update.effective_user
        assert message is not None and user is not None
        return message, person_of(user), lang_of(user)

    @answers_user_errors
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        await self.core.user(person)
        await message.reply_text(text("tg_welcome", lang) + "\n\n"
                                 + help_reply(lang, self.core.models))

    @answers_user_errors
    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        parts = [help_reply(lang, self.core.models), text("tg_group_hint", lang)]
        if await self.deps.admin.is_admin(person):
            parts.append(admin_help(lang))
        await message.reply_text(shorten("\n\n".join(parts)))

    @answers_user_errors
    async def presets(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, _, lang = self._who(update)
        await message.reply_text(presets_reply(lang, self.core.models))

    @answers_user_errors
    async def preset(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        if not context.args:
            user = await self.core.user(person)
            current = user.default_preset or self.core.default_preset
            await message.reply_text(text("preset_current", lang, preset=current) + "\n\n"
                                     + presets_reply(lang, self.core.models))
            return
        user = await self.core.set_default_preset(person, context.args[0])
        await message.reply_text(text("preset_set", lang, preset=user.default_preset))

    @answers_user_errors
    async def quota(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        reply = quota_reply(await self.core.balance(person), lang)
        if self.core.packs:
            reply += "\n" + text("tg_buy_hint", lang)
        await message.reply_text(reply)

    @answers_user_errors
    async def queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        await message.reply_text(queue_reply(await self.core.queue_view(person), lang))

    @answers_user_errors
    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        job = await self.core.cancel(person, context.args[0] if context.args else None)
        key = "cancelled" if job.status is JobStatus.CANCELLED else "cancelling"
        await message.reply_text(text(key, lang, job=job.id))

    @answers_user_errors
    async def history(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        await message.reply_text(shorten(history_reply(await self.core.history(person), lang)))

    @answers_user_errors
    async def extend(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/extend JOB [new prompt]`, or `/extend [new prompt]` as a reply to the video."""
        message, person, lang = self._who(update)
        args = list(context.args or [])
        replied = message.reply_to_message
        job_id = job_of(replied.reply_markup.to_dict()) if replied and replied.reply_markup \
            else None
        if job_id is None:
            if not args:
                raise UserError("extend_usage")
            job_id = args.pop(0)
        prompt = " ".join(args) or None

        def start(chat: ChatRef) -> Awaitable[Job]:
            return self.core.extend(person, job_id, prompt, chat)

        await follow_up(self.deps, message, person, update.effective_user.language_code
                        if update.effective_user else None, lang, start, "extension")

    @answers_user_errors
    async def admin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/admin VERB ARGS`; USER may be omitted when replying to that person's message."""
        message, person, _ = self._who(update)
        args = list(context.args or [])
        verb = args.pop(0) if args else ""
        replied = message.reply_to_message
        target = (person_of(replied.from_user) if replied is not None
                  and replied.from_user is not None and not replied.from_user.is_bot else None)
        answer = await self.deps.admin.run(person, verb, args, replied=target)
        await message.reply_text(shorten(answer))
