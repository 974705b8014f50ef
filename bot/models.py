"""The plain, frozen types that cross the boundaries of the core."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.params import GenParams


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


class Role(enum.StrEnum):
    ADMIN = "admin"
    TRUSTED = "trusted"
    USER = "user"


@dataclass(frozen=True)
class Person:
    """Who sent a request, as the platform describes them."""

    platform: str
    platform_id: str
    name: str = ""
    username: str | None = None
    language: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.platform_id}"


@dataclass(frozen=True)
class User:
    id: int
    platform: str
    platform_id: str
    name: str
    username: str | None
    language: str | None
    role: Role
    banned: bool
    default_preset: str | None
    daily_credits: float | None  # an override of the role's allowance

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.platform_id}"

    @property
    def label(self) -> str:
        shown = f"@{self.username}" if self.username else (self.name or self.platform_id)
        return f"{shown} ({self.key})"


@dataclass(frozen=True)
class JobRequest:
    """What an adapter hands the core: the photo, the caption, and where to answer.

    `chat` is the adapter's own reference (chat id, message ids, interaction token...),
    stored as JSON with the job and handed back with every event.
    """

    person: Person
    chat: dict[str, Any]
    image: bytes
    caption: str
    preset: str | None = None  # a preset forced by a button or an option
    seed: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # typed options (Discord)


@dataclass(frozen=True)
class Job:
    id: str
    user_id: int
    platform: str
    chat: dict[str, Any]
    status: JobStatus
    caption: str
    params: GenParams
    cost: int  # hundredths of a credit
    input_path: Path
    attempts: int
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    output_path: Path | None = None
    error: str | None = None
    note: str | None = None

    @property
    def seed(self) -> int:
        assert self.params.seed is not None
        return self.params.seed

    @property
    def run_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class EventKind(enum.StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    PROGRESS = "progress"
    ENCODING = "encoding"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class VideoResult:
    path: Path
    poster: Path
    params_path: Path
    width: int
    height: int
    frames: int
    fps: int
    duration: float
    size_bytes: int


@dataclass(frozen=True)
class JobEvent:
    kind: EventKind
    job: Job
    language: str = "en"
    position: int | None = None  # 1 = next to run
    eta_seconds: float | None = None
    step: int = 0
    total_steps: int = 0
    result: VideoResult | None = None
    message: str | None = None  # failure reason or note, already in the user's language
