"""Rows to the core's dataclasses and back: nothing of aiosqlite leaves the store."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiosqlite

from bot.models import ChatRef, Job, JobStatus, Note, Role, User
from engine.spec.params import GenParams


def user_from(row: aiosqlite.Row) -> User:
    return User(id=row["id"], platform=row["platform"], platform_id=row["platform_id"],
                name=row["name"], username=row["username"], language=row["language"],
                role=Role(row["role"]), banned=bool(row["banned"]),
                default_preset=row["default_preset"], daily_credits=row["daily_credits"],
                last_served_at=row["last_served_at"])


def job_from(row: aiosqlite.Row) -> Job:
    return Job(id=row["id"], user_id=row["user_id"], platform=row["platform"],
               chat=ChatRef(**json.loads(row["chat"])), status=JobStatus(row["status"]),
               caption=row["caption"], params=params_from(row["params"]),
               cost=row["cost"], input_path=Path(row["input_path"]), attempts=row["attempts"],
               created_at=row["created_at"], started_at=row["started_at"],
               finished_at=row["finished_at"],
               output_path=Path(row["output_path"]) if row["output_path"] else None,
               error=row["error"], note=note_from(row["note"]),
               delivered_at=row["delivered_at"], extends=row["extends"],
               extension=row["extension"])


def params_from(text: str) -> GenParams:
    return GenParams.from_dict(json.loads(text))


def note_from(text: str | None) -> Note | None:
    if not text:
        return None
    data = json.loads(text)
    return Note(data["key"], data.get("params", {}))


def column(value: Any) -> Any:
    """A Python value as SQLite stores it."""
    if isinstance(value, JobStatus | Role):
        return value.value
    if isinstance(value, GenParams | ChatRef):
        return json.dumps(asdict(value))
    if isinstance(value, Note):
        return json.dumps({"key": value.key, "params": dict(value.params)})
    if isinstance(value, Path):
        return str(value)
    return value
