"""The slash commands: help, presets, quota, queue, cancel, history, and /admin."""

from __future__ import annotations

import logging
import time

from telegram import BotCommand, Message, Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from adapters.telegram_bot.deps import Deps
from adapters.telegram_bot.errors import answers_user_errors
from adapters.telegram_bot.limits import shorten
from adapters.telegram_bot.people import lang_of, person_of
from adapters.telegram_bot.texts import COMMANDS, tg_text
from bot.admin import ADMIN_HELP
from bot.models import JobStatus, Person
from bot.quotas import credits
from bot.texts import help_text, presets_text, text

log = logging.getLogger(__name__)


def command_menu(lang: str) -> list[BotCommand]:
    return [BotCommand(name, tg_text(f"cmd_{name}", lang)) for name in COMMANDS]


class Commands:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.core = deps.app.core

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        for name, callback in (("start", self.start), ("help", self.help),
                               ("presets", self.presets), ("preset", self.preset),
                               ("quota", self.quota), ("queue", self.queue),
                               ("cancel", self.cancel), ("history", self.history),
                               ("admin", self.admin)):
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
        await message.reply_text(tg_text("welcome", lang) + "\n\n" + help_text(lang))

    @answers_user_errors
    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        parts = [help_text(lang), tg_text("group_hint", lang)]
        if await self.deps.app.admin.is_admin(person):
            parts.append(ADMIN_HELP)
        await message.reply_text(shorten("\n\n".join(parts)))

    @answers_user_errors
    async def presets(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, _, lang = self._who(update)
        await message.reply_text(presets_text(lang))

    @answers_user_errors
    async def preset(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        if not context.args:
            user = await self.core.user(person)
            current = user.default_preset or self.core.policy.default_preset
            await message.reply_text(tg_text("preset_current", lang, preset=current) + "\n\n"
                                     + presets_text(lang))
            return
        user = await self.core.set_default_preset(person, context.args[0])
        await message.reply_text(text("preset_set", lang, preset=user.default_preset))

    @answers_user_errors
    async def quota(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        balance = await self.core.balance(person)
        if balance.allowance is None:
            await message.reply_text(text("quota_unlimited", lang))
            return
        hours = max(1, round((balance.resets_at - time.time()) / 3600))
        await message.reply_text(text("quota", lang, left=credits(balance.left),
                                      allowance=credits(balance.allowance),
                                      spent=credits(balance.spent),
                                      granted=credits(balance.granted), hours=hours))

    @answers_user_errors
    async def queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        view = await self.core.queue_view(person)
        if view.length == 0:
            await message.reply_text(text("queue_empty", lang))
            return
        mine = ", ".join(f"{job.id} ({tg_text('running', lang) if place == 0 else f'#{place}'})"
                         for job, place in view.mine)
        await message.reply_text(text(
            "queue_line", lang, count=view.length,
            paused=tg_text("paused_suffix", lang) if view.paused else "",
            mine=text("queue_mine", lang, jobs=mine) if mine else text("queue_none_mine", lang)))

    @answers_user_errors
    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        job = await self.core.cancel(person, context.args[0] if context.args else None)
        key = "cancelled" if job.status is JobStatus.CANCELLED else "cancelling"
        await message.reply_text(text(key, lang, job=job.id))

    @answers_user_errors
    async def history(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, person, lang = self._who(update)
        jobs = await self.core.history(person)
        if not jobs:
            await message.reply_text(text("history_empty", lang))
            return
        lines = [text("history_head", lang)] + [
            text("history_line", lang, job=j.id, status=j.status.value, preset=j.params.preset,
                 seed=j.seed, prompt=j.params.prompt[:60]) for j in jobs]
        await message.reply_text(shorten("\n".join(lines)))

    @answers_user_errors
    async def admin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/admin VERB ARGS`; USER may be omitted when replying to that person's message."""
        message, person, _ = self._who(update)
        args = list(context.args or [])
        verb = args.pop(0) if args else ""
        replied = message.reply_to_message
        target = (person_of(replied.from_user) if replied is not None
                  and replied.from_user is not None and not replied.from_user.is_bot else None)
        answer = await self.deps.app.admin.run(person, verb, args, replied=target)
        await message.reply_text(shorten(answer))
