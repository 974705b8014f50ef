"""What crosses the GPU-work boundary: a job's spec in, events and an MP4 out.

Plain, torch-free types shared by the core's executors and the workers that run the engine
(a thread in the bot, or `i2vbot worker` processes on other machines).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.spec.moderation import Thresholds, Verdict
from engine.spec.params import GenParams


@dataclass(frozen=True)
class PreviewPlan:
    """When a job shows what it is becoming: a preview every `every` of its denoising steps
    (a fraction: 0.25 is at a quarter, half and three quarters of them), never two within
    `min_gap_s` seconds, none at the last step (the video follows). `every` 0: none."""

    every: float = 0.0
    min_gap_s: float = 3.0

    @property
    def on(self) -> bool:
        return self.every > 0

    def interval(self, total: int) -> int:
        """Steps from one preview to the next (at least)."""
        return max(1, math.ceil(total * self.every))

    def planned(self, total: int) -> list[int]:
        """The steps previews come at when no gap holds one back (the first always does)."""
        if not self.on:
            return []
        return list(range(self.interval(total), total, self.interval(total)))


@dataclass(frozen=True)
class RenderSpec:
    """One job as a worker sees it. `photo` is the file as the person sent it (decoded on
    the worker); None for an extension, which starts from the last frame of `extends`. The
    MP4 is written to `output`, its poster beside it."""

    job_id: str
    params: GenParams
    photo: Path | None
    output: Path
    max_bytes: int | None = None  # the platform's upload limit: the MP4 is made to fit
    headroom: int = 0  # bytes of that limit kept free for the signature the core adds
    extends: Path | None = None  # the video this clip continues (joined before the MP4)
    label: str = ""  # drawn in a corner of every frame (I2V_WATERMARK); "": none
    previews: PreviewPlan = PreviewPlan()  # a batch runs by its first job's
    # Check a few frames before the MP4 is made, refusing at these scores (the core decides
    # whose videos are checked); None: not checked.
    moderation: Thresholds | None = None


@dataclass(frozen=True)
class Video:
    """A finished MP4, from the encoder to the chat: the one type for it everywhere."""

    path: Path
    poster: Path  # JPEG of the first frame, for thumbnails
    width: int
    height: int
    frames: int
    fps: int
    duration: float  # seconds
    size_bytes: int
    # As run: size and seed filled in, lower after an out-of-memory. None only as the
    # encoder hands it back, before the worker adds what made it.
    params: GenParams | None = None
    lowered_from: str | None = None  # the size asked for, when the GPU made it run lower

    @property
    def params_path(self) -> Path:
        """The JSON of its parameters, written beside it by the core."""
        return self.path.with_suffix(".json")


class WorkKind(enum.StrEnum):
    STARTED = "started"
    PROGRESS = "progress"
    ENCODING = "encoding"
    DONE = "done"
    FAILED = "failed"
    STOPPED = "stopped"  # stopped between steps, unfinished (cancel, shutdown, batch-mate)
    LOST = "lost"  # the worker running it died or vanished

    @property
    def final(self) -> bool:
        """The job's last event from its worker."""
        return self in (WorkKind.DONE, WorkKind.FAILED, WorkKind.STOPPED, WorkKind.LOST)


@dataclass(frozen=True)
class WorkEvent:
    kind: WorkKind
    job_id: str
    step: int = 0
    total: int = 0
    video: Video | None = None
    reason: str | None = None  # FAILED: a code of the text catalogue
    reason_params: Mapping[str, Any] = field(default_factory=dict)
    detail: str | None = None  # FAILED/LOST: what happened, for the log only
    # PROGRESS: a JPEG of one frame of the model's current prediction of the clean video.
    preview: bytes | None = None
    verdict: Verdict | None = None  # FAILED by moderation: the classifier's scores
