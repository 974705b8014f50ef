"""`i2vbot worker`: a GPU process that takes jobs from SAQ on Redis and renders them.

It loads the model once, then runs one batch at a time: the photos come from Redis, the
engine runs on a thread, every denoising step is published (`job.update`, which is also the
heartbeat), each live preview goes under its job's preview key (the step it shows in the
job's progress), and the MP4 and its poster go back to Redis for the bot to fetch. An abort from
the bot reaches the job through SAQ's abort poll (about a second) and stops the engine
between two steps. Nothing here decides order, credits or who may: the bot does.

Redis is a cache of what the bot knows. The worker names its queue in the registry with
every heartbeat (a Redis restarted empty learns it again), and holds a job only while the
job's record there says it runs on this worker: when Redis cannot be reached, or the record
is gone (Redis restarted empty) or is no longer this worker's, the engine stops after its
step, the batch's files are removed and nothing more is written for the job; the bot, which
sees the record gone or swept, sends it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Worker
from saq.job import Job, Status
from saq.types import PartialTimersDict, WorkerInfo

from bot.executors.base import Renderer
from bot.executors.redis_link import Queue
from bot.executors.scratch import Scratch
from bot.executors.wire import (
    BLOB_TTL_S,
    FUNCTION,
    PREVIEW_TTL_S,
    QUEUES_KEY,
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
INFO_EVERY_S = 2  # the worker entry (and the queue registry) is written this often
# How long SAQ waits for a cancelled job (a timeout, a shutdown) before it moves on: the
# engine stops only after its step, and the next job must not share the GPU with it.
ENGINE_STOP_S = 30.0


class JobLost(Exception):
    """This worker no longer holds its job (Redis unreachable, the record gone or another's)."""


class FarmWorker(Worker):
    """SAQ's worker, naming its queue in the registry each time it writes its worker entry,
    so that a Redis restarted empty knows both again within one heartbeat."""

    def __init__(self, queue: Queue, **options: Any) -> None:
        super().__init__(queue, **options)
        self.home = queue
        self.redis: Any = queue.redis  # redis-py's async client (typed for both kinds)

    async def worker_info(self, ttl: int = 60) -> WorkerInfo:
        await self.redis.sadd(QUEUES_KEY, self.queue.name)
        info = await super().worker_info(ttl)
        self.home.answered()  # while idle, this is what sees Redis come back
        return info


class _WhileAway(logging.Filter):
    """SAQ's housekeeping logs a traceback each second while Redis is away; the queue says
    so once itself (redis_link.Queue), so those are left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, RedisConnectionError | RedisTimeoutError)


_WHILE_AWAY = _WhileAway()


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
    job: Job = ctx["job"]
    worker: FarmWorker = ctx["worker"]
    scratch: Scratch = ctx["scratch"]
    holding = _Holding(job, worker.id)
    meta: dict[str, Any] = ctx["metadata"]
    meta["busy"] = job.key
    try:
        with scratch.batch() as folder:  # removed after the engine stopped, however it ended
            specs = [spec_from_wire(data, folder) for data in jobs]
            await _fetch_inputs(holding, worker.redis, specs)
            outcomes = await _run(holding, ctx["renderer"], specs, ctx["heartbeat_s"],
                                  worker.redis)
            await _publish_results(holding, worker.redis, specs, outcomes)
            return outcomes
    except JobLost as lost:
        log.warning("jobs %s: lost (%s); the engine stopped %s, the batch's files are "
                    "removed", job.key, lost, holding.reached)
        # SAQ writes nothing for a function that ended cancelled: the job's record stays as
        # the bot will find it (gone, or stale and then swept), and the bot sends it again.
        raise asyncio.CancelledError from lost
    finally:
        meta["busy"] = None
        meta["engine"] = ctx["renderer"].describe()  # a batch may have switched the model


class _Holding:
    """Writes about a job only while its record says it runs on this worker."""

    def __init__(self, job: Job, worker_id: str) -> None:
        self.job = job
        self.worker_id = worker_id
        self.reached = "before its first step"

    async def check(self) -> None:
        stored = await self.call(self.job.get_queue().job(self.job.key))
        if stored is None:
            raise JobLost("its record is gone from Redis")
        if stored.worker_id != self.worker_id or stored.status not in (Status.ACTIVE,
                                                                      Status.ABORTING):
            # ABORTING is still ours: SAQ's abort poll stops it within a second.
            raise JobLost(f"its record is {stored.status.value} on worker {stored.worker_id}")

    async def update(self, **fields: Any) -> None:
        await self.check()
        await self.call(self.job.update(**fields))

    async def call(self, step: Any) -> Any:
        """Await a Redis command (redis-py raises its own errors for a lost connection)."""
        try:
            return await step
        except RedisError as exc:
            raise JobLost(f"Redis cannot be reached: {exc}") from exc


async def _fetch_inputs(holding: _Holding, redis: Any, specs: list[RenderSpec]) -> None:
    keys = [key for s in specs for key in (photo_key(s.job_id), extends_key(s.job_id))]
    blobs = dict(zip(keys, await holding.call(redis.mget(keys)), strict=True))
    wanted = [photo_key(s.job_id) for s in specs if s.photo is not None]
    wanted += [extends_key(s.job_id) for s in specs if s.extends is not None]
    if any(blobs[key] is None for key in wanted):
        await holding.check()  # Redis emptied since the job was sent: the bot sends it again
    for spec in specs:
        for path, key in ((spec.photo, photo_key(spec.job_id)),
                          (spec.extends, extends_key(spec.job_id))):
            if path is not None and blobs[key] is not None:  # else: "input_missing"
                path.write_bytes(blobs[key])


async def _publish_results(holding: _Holding, redis: Any, specs: list[RenderSpec],
                           outcomes: dict[str, Any]) -> None:
    blobs = {}
    for spec in specs:
        if outcomes.get(spec.job_id, {}).get("done"):
            blobs[video_key(spec.job_id)] = spec.output.read_bytes()
            blobs[poster_key(spec.job_id)] = spec.output.with_suffix(".jpg").read_bytes()
    await holding.check()  # a job the worker no longer holds leaves nothing in Redis

    async def write() -> None:
        async with redis.pipeline(transaction=True) as pipe:
            for key, data in blobs.items():
                pipe.setex(key, BLOB_TTL_S, data)
            await pipe.execute()

    await holding.call(write())


async def _run(holding: _Holding, renderer: Renderer, specs: list[RenderSpec],
               heartbeat_s: int, redis: Any) -> dict[str, Any]:
    """The engine on a thread, its steps published; however this ends (done, aborted, the
    job lost), the engine has stopped when it returns or raises."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[WorkEvent | JobLost | None] = asyncio.Queue()
    stop = threading.Event()

    def emit(event: WorkEvent) -> None:
        loop.call_soon_threadsafe(events.put_nowait, event)

    def engine() -> None:
        try:
            renderer.run(specs, emit, stop.is_set)
        finally:
            loop.call_soon_threadsafe(events.put_nowait, None)

    async def heartbeat() -> None:  # the VAE decode and the encoding send no steps
        while True:
            await asyncio.sleep(max(1, heartbeat_s // 3))
            try:
                await holding.update()
            except JobLost as lost:
                events.put_nowait(lost)
                return

    outcomes: dict[str, Any] = {}
    progress: dict[str, Any] = {}
    previews: dict[str, int] = {}  # job id -> the step its preview key shows
    running = asyncio.ensure_future(asyncio.to_thread(engine))
    beating = asyncio.create_task(heartbeat())
    try:
        while (event := await events.get()) is not None:
            if isinstance(event, JobLost):
                raise event
            if event.kind is WorkKind.PROGRESS:
                holding.reached = f"after step {event.step} of {event.total}"
                if event.preview is not None and await _put_preview(redis, event):
                    previews[event.job_id] = event.step
                progress = {"phase": "denoising", "step": event.step, "total": event.total,
                            **({"previews": dict(previews)} if previews else {})}
                await holding.update(progress=event.step / max(1, event.total), meta=progress)
            elif event.kind is WorkKind.ENCODING:
                await holding.update(meta={**progress, "phase": "encoding"})
            elif event.kind in (WorkKind.DONE, WorkKind.FAILED):
                outcomes[event.job_id] = outcome_to_wire(event)
        return outcomes
    finally:
        beating.cancel()
        stop.set()  # nothing to stop when the engine has finished
        await _until_done(running)


async def _put_preview(redis: Any, event: WorkEvent) -> bool:
    """The job's newest preview, replacing one the bot has not fetched; a Redis error costs
    the preview, never the job."""
    try:
        await redis.setex(preview_key(event.job_id), PREVIEW_TTL_S, event.preview)
    except Exception as exc:
        log.warning("job %s: preview not published: %s", event.job_id, exc)
        return False
    return True


async def _until_done(running: asyncio.Future[None]) -> None:
    """Wait for the engine thread to stop (it does after its step), even if cancelled
    again meanwhile: its files must not be removed under it, nor the GPU handed on."""
    while not running.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(running)
    if not running.cancelled() and running.exception() is not None:
        log.error("the engine thread failed", exc_info=running.exception())


def worker(url: str, make_renderer: Callable[[], Renderer], models: Sequence[str], *,
           heartbeat_s: int, scratch: Scratch, ready: Callable[[str], None] | None = None,
           timers: PartialTimersDict | None = None) -> FarmWorker:
    """A SAQ worker for one GPU (one batch at a time), ready to `start()`. It takes jobs
    from the queue of workers offering exactly `models`, names that queue in Redis for the
    bot to find, and keeps the files of its jobs in `scratch` (opened, a folder of its own).
    `ready` hears what the engine is once the model is loaded."""
    queue = Queue(url, queue_name(models))
    logging.getLogger("saq").addFilter(_WHILE_AWAY)  # once: a filter is added only once
    metadata: dict[str, Any] = {}

    async def startup(ctx: dict[str, Any]) -> None:
        renderer = await asyncio.to_thread(_loaded, make_renderer)
        ctx.update(renderer=renderer, metadata=metadata, heartbeat_s=heartbeat_s,
                   scratch=scratch)
        metadata.update(machine_info(renderer))
        log.info("worker ready: %s, taking jobs from %s", metadata["engine"], queue.name)
        if ready is not None:
            ready(metadata["engine"])

    return FarmWorker(queue, functions=[(FUNCTION, render)], concurrency=1, startup=startup,
                      metadata=metadata, shutdown_grace_period_s=2,
                      cancellation_hard_deadline_s=ENGINE_STOP_S,
                      timers={"sweep": SWEEP_EVERY_S, "worker_info": INFO_EVERY_S,
                              **(timers or {})})


def _loaded(make_renderer: Callable[[], Renderer]) -> Renderer:
    renderer = make_renderer()
    renderer.load()
    return renderer
