"""The small interfaces the core talks through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from bot.models import JobEvent
from engine.generator import Clip, VideoJob


class Renderer(Protocol):
    """Turns prepared jobs into frames; `engine.Engine` is the real one."""

    def generate(self, jobs: Sequence[VideoJob],
                 on_step: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> list[Clip]: ...


class Notifier(Protocol):
    """An adapter's way to show job events in the chat that owns the job."""

    async def notify(self, event: JobEvent) -> None: ...
