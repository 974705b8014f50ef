"""The plain, frozen types that cross the boundaries of the core."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.spec.params import GenParams
from engine.spec.work import Video


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # the MP4 exists; not yet confirmed delivered by the platform
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Waiting for or holding the GPU: counts against the per-user and queue limits."""
        return self in ACTIVE

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
TERMINAL = frozenset({JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.CANCELLED})


class Role(enum.StrEnum):
    ADMIN = "admin"
    TRUSTED = "trusted"
    USER = "user"

    @property
    def privileged(self) -> bool:
        """Served before plain users."""
        return self in (Role.ADMIN, Role.TRUSTED)


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
    last_served_at: float | None = None  # when a job of theirs last started: fair order

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.platform_id}"

    @property
    def label(self) -> str:
        shown = f"@{self.username}" if self.username else (self.name or self.platform_id)
        return f"{shown} ({self.key})"


@dataclass(frozen=True)
class ChatRef:
    """Where a job's answers go, built by the adapter that took the request.

    The core stores it with the job and hands it back with every event; it reads only
    `chat_id` (for the allow-list), `upload_limit` and `language`. `handle` is the adapter's
    own opaque string (e.g. a Discord interaction's webhook), never read by the core.
    """

    platform: str
    chat_id: str  # a Telegram chat, a Discord channel, a web session, the terminal
    thread_id: str | None = None
    reply_to: str | None = None  # the message to answer under
    status_message: str | None = None  # the message edited as the job moves
    upload_limit: int | None = None  # bytes the platform accepts from the bot here
    language: str | None = None  # the person's client language, as the platform gave it
    private: bool = True  # a one-to-one chat (rate limits differ in groups)
    handle: str | None = None


@dataclass(frozen=True)
class JobRequest:
    """What an adapter hands the core: the photo, the caption, and where to answer."""

    person: Person
    chat: ChatRef
    image: bytes | None  # None for an extension: its worker starts from the video's last frame
    caption: str
    preset: str | None = None  # a preset forced by a button or an option
    seed: int | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)  # typed options (Discord)
    extends: str | None = None  # the job whose video this one continues


@dataclass(frozen=True)
class Note:
    """Something the person should know about how their video was made, in the text
    catalogue's words: `key` with its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    id: str
    user_id: int
    platform: str
    chat: ChatRef
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
    note: Note | None = None
    delivered_at: float | None = None
    extends: str | None = None  # the job whose video this one continues
    extension: int = 0  # 0: a video of its own; n: the n-th extension of one

    @property
    def seed(self) -> int:
        assert self.params.seed is not None
        return self.params.seed

    @property
    def run_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def language(self) -> str | None:
        return self.chat.language


class EventKind(enum.StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    PROGRESS = "progress"
    ENCODING = "encoding"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        """The job's last event: done, failed or cancelled."""
        return self in (EventKind.DONE, EventKind.FAILED, EventKind.CANCELLED)

    @property
    def live(self) -> bool:
        """Waiting or denoising: the status shown can still change a lot, and be cancelled."""
        return self in (EventKind.QUEUED, EventKind.STARTED, EventKind.PROGRESS)


@dataclass(frozen=True)
class JobEvent:
    kind: EventKind
    job: Job
    language: str = "en"
    position: int | None = None  # 1 = next to run
    eta_seconds: float | None = None
    paused: bool = False  # QUEUED: the queue is paused by an admin
    unreachable: bool = False  # QUEUED: the GPU workers cannot be reached (Redis is away)
    step: int = 0
    total_steps: int = 0
    # PROGRESS: a JPEG of one frame of what the model predicts the video will be (the
    # latest: a newer one replaces one not yet shown; never needed for the video).
    preview: bytes | None = None
    result: Video | None = None  # DONE: the video, its parameters written beside it
    reason: Note | None = None  # FAILED / CANCELLED: why, in the catalogue's words
