"""Telegram users as the core's plain Person."""

from __future__ import annotations

from telegram import User as TgUser

from bot.models import Person
from bot.texts import language

PLATFORM = "telegram"


def person_of(user: TgUser) -> Person:
    return Person(PLATFORM, str(user.id), name=user.full_name, username=user.username,
                  language=user.language_code)


def lang_of(user: TgUser | None) -> str:
    return language(user.language_code if user else None)
