"""Inline buttons: cancel on the status message; re-roll, better quality and extend on the
video."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import Job
from bot.texts import text
from bot.views import result_actions

ACTIONS = ("reroll", "better", "extend", "cancel")


def status_keyboard(job: Job, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text("button_cancel", lang),
                                                       callback_data=f"cancel:{job.id}")]])


def result_keyboard(job: Job, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(text(f"button_{action}", lang), callback_data=f"{action}:{job.id}")
        for action in result_actions(job)]])


def job_of(markup: dict | None) -> str | None:
    """The job id in a result message's buttons (a reply to a video names its job)."""
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            parsed = parse(button.get("callback_data"))
            if parsed is not None:
                return parsed[1]
    return None


def parse(data: str | None) -> tuple[str, str] | None:
    """('reroll', job id) from 'reroll:<job id>', or None for anything else."""
    action, _, job_id = (data or "").partition(":")
    return (action, job_id) if action in ACTIONS and job_id else None
