"""`i2vbot worker`: a GPU process that takes jobs from SAQ on Redis and renders them.

It loads the model once, then runs one batch at a time: the photos come from Redis, the
engine runs on a thread, every denoising step is published (`job.update`, which is also the
heartbeat), each live preview goes under its job's preview key (the step it shows in the
job's progress), and the MP4 and its poster go back to Redis for the bot to fetch. An abort
from the bot reaches the job through SAQ's abort poll (about a second) and stops the engine
between two steps. Nothing here decides order, credits or who may: the bot does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.executors.base import Renderer
from bot.executors.wire import (
    BLOB_TTL_S,
    FUNCTION,
    PREVIEW_TTL_S,
    QUEUES_KEY,
    SWEPT,
    extends_key,
    outcome_to_wire,
    photo_key,
    poster_key,
    preview_key,
    queue_name,
    spec_from_wire,
    video_key,
)
from engine.spec.work import RenderSpec, WorkEvent, WorkKind

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 5  # every worker sweeps: a dead peer's job is found without the bot


def machine_info(renderer: Renderer) -> dict[str, Any]:
    """What the worker announces: host, GPU, free memory and the models it offers."""
    gpu, free = "cpu", None
    with contextlib.suppress(Exception):
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name()
            free = round(torch.cuda.mem_get_info()[0] / 2**30, 1)
    return {"host": f"{socket.gethostname()} pid {os.getpid()}", "gpu": gpu,
            "free_memory_gib": free, "models": list(renderer.models), "engine": renderer.describe(),
            "busy": None}


async def render(ctx: dict[str, Any], *, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """The SAQ function: one batch of jobs, from the photos in Redis to the MP4s in Redis."""
    job, renderer, redis = ctx["job"], ctx["renderer"], ctx["worker"].queue.redis
    meta: dict[str, Any] = ctx["metadata"]
    meta["busy"] = job.key
    try:
        with tempfile.TemporaryDirectory(prefix="i2v-worker-") as folder:
            specs = [spec_from_wire(data, Path(folder)) for data in jobs]
            for spec, photo in zip(specs, await redis.mget([photo_key(s.job_id)
                                                           for s in specs]), strict=True):
                if photo is not None and spec.photo is not None:  # else: "input_missing"
                    spec.photo.write_bytes(photo)
                if spec.extends is not None:
                    before = await redis.get(extends_key(spec.job_id))
                    if before is not None:
                        spec.extends.write_bytes(before)
            outcomes = await _run(job, renderer, specs, ctx["heartbeat_s"], redis)
            async with redis.pipeline(transaction=True) as pipe:
                for spec in specs:
                    if outcomes.get(spec.job_id, {}).get("done"):
                        pipe.setex(video_key(spec.job_id), BLOB_TTL_S, spec.output.read_bytes())
                        pipe.setex(poster_key(spec.job_id), BLOB_TTL_S,
                                   spec.output.with_suffix(".jpg").read_bytes())
                await pipe.execute()
            return outcomes
    finally:
        meta["busy"] = None
        meta["engine"] = renderer.describe()  # a batch may have switched the model


async def _run(job: Any, renderer: Renderer, specs: list[RenderSpec],
               heartbeat_s: int, redis: Any) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[WorkEvent | None] = asyncio.Queue()
    stop = threading.Event()

    def emit(event: WorkEvent) -> None:
        loop.call_soon_threadsafe(events.put_nowait, event)

    async def engine() -> None:
        try:
            await asyncio.to_thread(renderer.run, specs, emit, stop.is_set)
        finally:
            events.put_nowait(None)

    async def heartbeat() -> None:  # the VAE decode and the encoding send no steps
        while True:
            await asyncio.sleep(max(1, heartbeat_s // 3))
            await job.update()

    outcomes: dict[str, Any] = {}
    progress: dict[str, Any] = {}
    previews: dict[str, int] = {}  # job id -> the step its preview key shows
    running = asyncio.create_task(engine())
    beating = asyncio.create_task(heartbeat())
    try:
        while (event := await events.get()) is not None:
            if event.kind is WorkKind.PROGRESS:
                if event.preview is not None and await _put_preview(redis, event):
                    previews[event.job_id] = event.step
                progress = {"phase": "denoising", "step": event.step, "total": event.total,
                            **({"previews": dict(previews)} if previews else {})}
                await job.update(progress=event.step / max(1, event.total), meta=progress)
            elif event.kind is WorkKind.ENCODING:
                await job.update(meta={**progress, "phase": "encoding"})
            elif event.kind in (WorkKind.DONE, WorkKind.FAILED):
                outcomes[event.job_id] = outcome_to_wire(event)
    except asyncio.CancelledError:  # the bot aborted the job: stop after this step
        stop.set()
        await running
        raise
    finally:
        beating.cancel()
    await running
    return outcomes


async def _put_preview(redis: Any, event: WorkEvent) -> bool:
    """The job's newest preview, replacing one the bot has not fetched; a Redis error costs
    the preview, never the job."""
    try:
        await redis.setex(preview_key(event.job_id), PREVIEW_TTL_S, event.preview)
    except Exception as exc:
        log.warning("job %s: preview not published: %s", event.job_id, exc)
        return False
    return True


def worker(url: str, make_renderer: Callable[[], Renderer], models: Sequence[str], *,
           heartbeat_s: int, timers: dict[str, int] | None = None) -> Any:
    """A SAQ worker for one GPU (one batch at a time), ready to `start()`. It takes jobs
    from the queue of workers offering exactly `models`, and names that queue in Redis for
    the bot to find."""
    from saq import Queue, Worker

    # Any: `redis` is the Redis backend's own (from_url's type is the abstract Queue).
    queue: Any = Queue.from_url(url, name=queue_name(models), swept_error_message=SWEPT)
    metadata: dict[str, Any] = {}

    async def startup(ctx: dict[str, Any]) -> None:
        renderer = await asyncio.to_thread(_loaded, make_renderer)
        ctx.update(renderer=renderer, metadata=metadata, heartbeat_s=heartbeat_s)
        metadata.update(machine_info(renderer))
        await queue.redis.sadd(QUEUES_KEY, queue.name)
        log.info("worker ready: %s, taking jobs from %s", metadata["engine"], queue.name)

    schedule: Any = {"sweep": SWEEP_EVERY_S, "worker_info": 2, **(timers or {})}
    return Worker(queue, functions=[(FUNCTION, render)], concurrency=1, startup=startup,
                  metadata=metadata, shutdown_grace_period_s=2, timers=schedule)


def _loaded(make_renderer: Callable[[], Renderer]) -> Renderer:
    renderer = make_renderer()
    renderer.load()
    return renderer
