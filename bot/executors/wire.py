"""What travels through Redis between the bot and its `i2vbot worker` processes.

A SAQ job holds only small JSON (the specs' parameters, progress, the results' metadata), so
that the per-step progress updates stay cheap. Photos and videos travel beside it, as
bytes under keys of their own that expire by themselves; the bot deletes them as soon as it
has stored a result, and no machine needs a shared filesystem. A job's live preview is one
small key too, overwritten by the next and gone within minutes; the job's progress says
which step it shows, so the bot fetches only the newest.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from engine.spec.moderation import Thresholds, Verdict
from engine.spec.params import GenParams
from engine.spec.work import PreviewPlan, RenderSpec, Video, WorkEvent, WorkKind

QUEUE = "i2v"
QUEUES_KEY = "i2v:queues"  # the names of the workers' queues, one per set of models
FUNCTION = "render"
BLOB_TTL_S = 2 * 86400  # photos and videos not picked up in two days are dropped
PREVIEW_TTL_S = 300  # a preview is worth seeing for a few minutes at most
SWEPT = "worker lost (no heartbeat)"  # the error SAQ's sweep gives a dead worker's job
CANCELLED = "cancelled"


def queue_name(models: Iterable[str]) -> str:
    """The queue of the workers that offer exactly these models: any of them can run any
    job sent there, so a job goes only to a worker that has its model."""
    return f"{QUEUE}:{'+'.join(sorted(models))}"


def queue_models(name: str) -> frozenset[str]:
    return frozenset(name.removeprefix(f"{QUEUE}:").split("+"))


def photo_key(job_id: str) -> str:
    return f"i2v:photo:{job_id}"


def video_key(job_id: str) -> str:
    return f"i2v:video:{job_id}"


def poster_key(job_id: str) -> str:
    return f"i2v:poster:{job_id}"


def preview_key(job_id: str) -> str:
    """The newest preview JPEG of a running job."""
    return f"i2v:preview:{job_id}"


def extends_key(job_id: str) -> str:
    """The video an extension continues (joined on the worker)."""
    return f"i2v:extends:{job_id}"


def index_key(job_id: str) -> str:
    """Which queue and dispatch a job went to (`queue|key`): a restarted bot finds it."""
    return f"i2v:batch-of:{job_id}"


def dispatch_key(job_ids: Sequence[str]) -> str:
    """The SAQ job key of one dispatch of a batch: its jobs' ids in the order they were
    claimed, then a nonce of its own. A batch sent again (Redis or its worker lost it) goes
    under a new key, so that nothing a worker still writes for the old one can touch it."""
    return f"{'+'.join(job_ids)}@{secrets.token_hex(4)}"


def job_ids(key: str) -> list[str]:
    """The ids of the jobs of a dispatch (or of a batch key without a nonce, as the bot
    wrote them before)."""
    return key.partition("@")[0].split("+")


# Bot -> worker

def spec_to_wire(spec: RenderSpec) -> dict[str, Any]:
    return {"job_id": spec.job_id, "params": dataclasses.asdict(spec.params),
            "max_bytes": spec.max_bytes, "headroom": spec.headroom,
            "photo": spec.photo is not None, "extends": spec.extends is not None,
            "label": spec.label, "previews": dataclasses.asdict(spec.previews),
            "moderation": None if spec.moderation is None else spec.moderation.to_text()}


def spec_from_wire(data: dict[str, Any], folder: Path) -> RenderSpec:
    """The spec as the worker runs it: its photo and its output in the worker's own folder."""
    job_id = data["job_id"]
    photo = folder / f"{job_id}.img" if data.get("photo", True) else None
    moderation = data.get("moderation")
    return RenderSpec(job_id=job_id, params=GenParams.from_dict(data["params"]), photo=photo,
                      output=folder / f"{job_id}.mp4",
                      max_bytes=data["max_bytes"], headroom=data.get("headroom", 0),
                      extends=folder / f"{job_id}.before.mp4" if data.get("extends") else None,
                      label=data.get("label", ""),
                      previews=PreviewPlan(**data.get("previews") or {}),  # none from old bots
                      moderation=Thresholds.parse(moderation) if moderation else None)


# Worker -> bot

def outcome_to_wire(event: WorkEvent) -> dict[str, Any]:
    """A job's end (DONE or FAILED) as JSON; the MP4 and poster bytes travel beside it."""
    if event.kind is WorkKind.DONE and event.video is not None:
        video = event.video
        assert video.params is not None, "a worker's video says what made it"
        return {"done": True, "width": video.width, "height": video.height,
                "frames": video.frames, "fps": video.fps, "duration": video.duration,
                "size_bytes": video.size_bytes, "params": dataclasses.asdict(video.params),
                "lowered_from": video.lowered_from}
    return {"done": False, "reason": event.reason or "internal_error",
            "reason_params": dict(event.reason_params), "detail": event.detail,
            "verdict": None if event.verdict is None else event.verdict.to_dict()}


def outcome_from_wire(job_id: str, data: dict[str, Any], output: Path) -> WorkEvent:
    """The event for a job's end; a DONE's files must already be at `output`."""
    if data.get("done"):
        return WorkEvent(WorkKind.DONE, job_id, video=Video(
            path=output, poster=output.with_suffix(".jpg"), width=data["width"],
            height=data["height"], frames=data["frames"], fps=data["fps"],
            duration=data["duration"], size_bytes=data["size_bytes"],
            params=GenParams.from_dict(data["params"]), lowered_from=data["lowered_from"]))
    verdict = data.get("verdict")
    return WorkEvent(WorkKind.FAILED, job_id, reason=data["reason"],
                     reason_params=data.get("reason_params") or {}, detail=data.get("detail"),
                     verdict=Verdict.from_dict(verdict) if verdict else None)
