"""What every handler needs, built once by the adapter and passed into each router."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat

from adapters.telegram_bot.limits import Limits
from adapters.telegram_bot.notifier import TelegramNotifier
from adapters.telegram_bot.people import PLATFORM
from bot.models import ChatRef
from bot.ports import AdminPort, CorePort


@dataclass(frozen=True)
class Deps:
    core: CorePort
    admin: AdminPort
    limits: Limits
    notifier: TelegramNotifier
    max_album: int


def chat_ref(deps: Deps, chat: Chat, status_message_id: int | None,
             reply_to_message_id: int | None, lang_code: str | None,
             thread_id: int | None = None) -> ChatRef:
    """Where a job's answers go in this chat."""
    return ChatRef(PLATFORM, chat_id=str(chat.id),
                   thread_id=str(thread_id) if thread_id else None,
                   reply_to=str(reply_to_message_id) if reply_to_message_id else None,
                   status_message=str(status_message_id) if status_message_id else None,
                   upload_limit=deps.limits.upload_bytes, language=lang_code,
                   private=chat.type == Chat.PRIVATE)
