"""What every handler needs, built once by the adapter and passed into each router."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Chat

from adapters.app import App
from adapters.telegram_bot.limits import Limits
from adapters.telegram_bot.notifier import TelegramNotifier


@dataclass(frozen=True)
class Deps:
    app: App
    limits: Limits
    notifier: TelegramNotifier
    max_album: int


def chat_ref(deps: Deps, chat: Chat, status_message_id: int | None,
             reply_to_message_id: int | None, lang_code: str | None) -> dict[str, Any]:
    """The JSON-able reference a job keeps to answer in this chat."""
    return {"chat_id": chat.id, "chat_type": chat.type, "status_message_id": status_message_id,
            "reply_to_message_id": reply_to_message_id,
            "max_bytes": deps.limits.upload_bytes, "lang": lang_code}
