"""Where photos and videos live on disk, and how long they stay.

Videos get timestamped names, as the original app gave them, with the job id so two jobs in
the same second never collide; the parameters are written as JSON beside each MP4.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from bot.models import Job

log = logging.getLogger(__name__)


class Outputs:
    def __init__(self, data_dir: Path, retention_days: int) -> None:
        self.inputs = data_dir / "inputs"
        self.videos = data_dir / "outputs"
        self.retention_days = retention_days
        for folder in (self.inputs, self.videos):
            folder.mkdir(parents=True, exist_ok=True)

    def save_input(self, job_id: str, data: bytes) -> Path:
        path = self.inputs / f"{job_id}.img"
        write_atomic(path, data)
        return path

    def video_path(self, job: Job) -> Path:
        stamp = datetime.fromtimestamp(job.started_at or time.time()).strftime("%Y%m%d_%H%M%S")
        return self.videos / f"video_{stamp}_{job.id}.mp4"

    def write_params(self, job: Job, video: Path, extra: dict[str, object]) -> Path:
        path = video.with_suffix(".json")
        record = {"job": job.id, "caption": job.caption, **asdict(job.params), **extra}
        write_atomic(path, json.dumps(record, indent=2, ensure_ascii=False).encode())
        return path

    def prune(self, now: float | None = None) -> int:
        """Delete outputs and inputs older than the retention period; 0 days keeps all."""
        if self.retention_days <= 0:
            return 0
        cutoff = (now or time.time()) - self.retention_days * 86400
        removed = 0
        for folder in (self.videos, self.inputs):
            for path in folder.iterdir():
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        if removed:
            log.info("retention: removed %d files older than %d days", removed,
                     self.retention_days)
        return removed


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
