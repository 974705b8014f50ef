"""Inline buttons: cancel on the status message, re-roll and better quality on the video."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.models import Job
from bot.texts import text
from engine.params import next_preset

ACTIONS = ("reroll", "better", "cancel")


def status_keyboard(job: Job, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text("button_cancel", lang),
                                                       callback_data=f"cancel:{job.id}")]])


def result_keyboard(job: Job, lang: str) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(text("button_reroll", lang), callback_data=f"reroll:{job.id}")]
    if next_preset(job.params.preset) is not None:
        row.append(InlineKeyboardButton(text("button_better", lang),
                                        callback_data=f"better:{job.id}"))
    return InlineKeyboardMarkup([row])


def parse(data: str | None) -> tuple[str, str] | None:
    """('reroll', job id) from 'reroll:<job id>', or None for anything else."""
    action, _, job_id = (data or "").partition(":")
    return (action, job_id) if action in ACTIONS and job_id else None
