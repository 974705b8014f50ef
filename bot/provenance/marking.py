"""The port the job lifecycle marks finished videos through."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.models import Job
from engine.spec.work import Video


class Marking(Protocol):
    @property
    def label(self) -> str:
        """Drawn on every frame by the worker (I2V_WATERMARK); "": none."""
        ...

    @property
    def notice(self) -> str | None:
        """A line for the terminal at start, when there is news (a certificate made)."""
        ...

    def reserve(self, job: Job) -> int:
        """Bytes the signature will add: kept free in a platform's upload budget."""
        ...

    def sign(self, video: Video, job: Job, parent: Path | None) -> Video:
        """Sign the finished file in place (blocking: call it off the event loop); `parent`
        is the video an extension continues. Returns the video with its new size."""
        ...


@dataclass(frozen=True)
class Unsigned:
    """I2V_PROVENANCE=off: the label (if any) and the worker's MP4 tags, no manifest."""

    label: str = ""

    @property
    def notice(self) -> str | None:
        return None

    def reserve(self, job: Job) -> int:
        return 0

    def sign(self, video: Video, job: Job, parent: Path | None) -> Video:
        return video
