"""Where photos and videos live on disk, and how long they stay.

Videos get timestamped names, as the original app gave them, with the job id so two jobs in
the same second never collide; the parameters are written as JSON beside each MP4, which is
also how a finished video is found again after a restart.
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
from engine.spec.work import Video

log = logging.getLogger(__name__)


class Outputs:
    def __init__(self, data_dir: Path, retention_days: int) -> None:
        self.inputs = data_dir / "inputs"
        self.videos = data_dir / "outputs"
        self.kept = data_dir / "moderation"  # refused photos, only where they are kept
        self.retention_days = retention_days
        for folder in (self.inputs, self.videos):
            folder.mkdir(parents=True, exist_ok=True)

    def keep_refused(self, sha256: str, data: bytes) -> Path:
        """Keep a photo moderation refused (I2V_MODERATION_KEEP), named by its hash; never
        pruned: what is kept as evidence is the operator's to delete."""
        path = self.kept / f"{sha256}.img"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        return path

    def input_path(self, job_id: str) -> Path:
        return self.inputs / f"{job_id}.img"

    def save_input(self, job_id: str, data: bytes) -> Path:
        path = self.input_path(job_id)
        write_atomic(path, data)
        return path

    def discard_input(self, job_id: str) -> None:
        """Remove the photo of a job that will not run (cancelled, refused, failed): only a
        finished video's photo is kept, for its re-roll buttons."""
        self.input_path(job_id).unlink(missing_ok=True)

    @staticmethod
    def trim_inputs(photos: list[tuple[Path, bool]], budget: int) -> int:
        """Keep the newest photos within `budget` bytes: `photos` are (path, still needed)
        from the newest; a needed one is never removed. Returns how many went."""
        kept = removed = 0
        for path, needed in photos:
            try:
                size = path.stat().st_size
            except OSError:  # gone already, or an extension (its worker makes its photo)
                continue
            kept += size
            if kept > budget and not needed:
                path.unlink(missing_ok=True)
                kept -= size
                removed += 1
        return removed

    def video_path(self, job: Job) -> Path:
        stamp = datetime.fromtimestamp(job.started_at or time.time()).strftime("%Y%m%d_%H%M%S")
        return self.videos / f"video_{stamp}_{job.id}.mp4"

    def preview_path(self, job_id: str) -> Path:
        """Where a terminal keeps a running job's latest live preview (gone when it ends)."""
        return self.videos / f"preview_{job_id}.jpg"

    def record(self, job: Job, video: Video) -> Video:
        """Write the video's parameters beside it (where `result_of` finds them again)."""
        params = video.params or job.params  # as run (the worker says), else as asked
        record = {"job": job.id, "caption": job.caption, **asdict(params),
                  "width": video.width, "height": video.height, "frames": video.frames,
                  "fps": video.fps, "duration": video.duration,
                  "lowered_from": video.lowered_from}
        write_atomic(video.params_path,
                     json.dumps(record, indent=2, ensure_ascii=False).encode())
        return video

    def result_of(self, job: Job) -> Video | None:
        """The finished video of a job, from its files; None if any of them is gone."""
        if job.output_path is None:
            return None
        video, params = job.output_path, job.output_path.with_suffix(".json")
        poster = video.with_suffix(".jpg")
        try:
            record = json.loads(params.read_text(encoding="utf-8"))
            size = video.stat().st_size
        except (OSError, ValueError):
            return None
        if not poster.exists():
            return None
        return Video(path=video, poster=poster, width=record["width"],
                     height=record["height"], frames=record["frames"], fps=record["fps"],
                     duration=record["duration"], size_bytes=size, params=job.params,
                     lowered_from=record.get("lowered_from"))

    def discard_video(self, path: Path) -> None:
        """Remove a video nobody will get (cancelled while it was encoded)."""
        for file in (path, path.with_suffix(".jpg"), path.with_suffix(".json")):
            file.unlink(missing_ok=True)

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


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """The file appears whole or not at all; `mode` (0o600 for a key) holds from the first
    byte written, not only once it is complete."""
    tmp = path.with_name(f".{path.name}.tmp")
    if mode is None:
        tmp.write_bytes(data)
    else:
        tmp.unlink(missing_ok=True)  # a leftover may have looser permissions
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
