"""How handlers fail: a UserError is answered in the person's language; anything else goes to
the one error handler, which logs it and apologises in that chat only."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters.telegram_bot.people import lang_of
from bot.errors import UserError
from bot.texts import error_text, text

log = logging.getLogger(__name__)

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def answers_user_errors(handler: Handler) -> Handler:
    """Reply to the message with the UserError's text instead of raising it."""

    @functools.wraps(handler)
    async def wrapper(self: Any, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
        try:
            return await handler(self, update, context)
        except UserError as exc:
            lang = lang_of(update.effective_user)
            log.info("user %s: %s", update.effective_user.id if update.effective_user
                     else "?", exc)
            if update.callback_query is not None:
                await update.callback_query.answer(error_text(exc, lang), show_alert=True)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(error_text(exc, lang))
            return None

    return wrapper  # type: ignore[return-value]


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log, then tell only the chat concerned, if it can be told."""
    user = update.effective_user if isinstance(update, Update) else None
    chat = update.effective_chat if isinstance(update, Update) else None
    log.error("update %s user %s chat %s: handler failed",
              update.update_id if isinstance(update, Update) else "-",
              user.id if user else "-", chat.id if chat else "-", exc_info=context.error)
    if not isinstance(update, Update):
        return
    lang = lang_of(user)
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            await update.callback_query.answer(text("internal_error", lang), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text("internal_error", lang))
