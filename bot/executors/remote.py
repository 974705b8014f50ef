"""The remote executor: jobs go to `i2vbot worker` processes on other machines through SAQ
on Redis; the bot keeps the fair order, the credits and every decision.

The bot dispatches a batch only to an idle worker (nothing waits in Redis), so the
scheduler's order holds with many GPUs exactly as with one: a person with five jobs cannot
have them all lined up on the workers while someone else's waits in the bot. It watches its
in-flight jobs by polling Redis (one MGET for all of them) and turns what the workers wrote
(started, step i of n, encoding, done, failed, aborted) into the executor's events.

Workers offering the same models share a queue (`i2v:i2vgen-xl+wan`), which they name in a
Redis set: the bot sends a job to a queue whose workers all have its model and one of which
is idle, so a mixed farm (Wan on the large GPUs only) serves each model where it can. A worker
that dies stops sending heartbeats; SAQ's sweep (run by every worker and by the bot) then
aborts its job, which the bot hears as LOST and runs again elsewhere, once. A bot that stops
leaves its jobs running: the next start reattaches them by job id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.executors.base import ExecutorUnavailable, WorkerInfo
from bot.executors.wire import (
    BLOB_TTL_S,
    CANCELLED,
    FUNCTION,
    QUEUE,
    QUEUES_KEY,
    SWEPT,
    batch_key,
    extends_key,
    job_ids,
    outcome_from_wire,
    photo_key,
    poster_key,
    preview_key,
    queue_models,
    spec_to_wire,
    video_key,
)
from bot.outputs import write_atomic
from engine.spec.work import RenderSpec, WorkEvent, WorkKind

log = logging.getLogger(__name__)

POLL_S = 0.02  # how often in-flight jobs are looked at (one MGET): the gap between jobs
WORKERS_EVERY_S = 2.0  # how often the list of live workers is read
SWEEP_EVERY_S = 5.0  # how often the bot sweeps jobs whose worker stopped its heartbeat


def redacted(url: str) -> str:
    """A Redis URL without its credentials, for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path}"


@dataclass
class _InFlight:
    specs: list[RenderSpec]
    queue: str  # the name of the queue it was sent to
    started: bool = False
    step: int = 0
    encoding: bool = False
    cancelled: bool = False
    previews: dict[str, int] = field(default_factory=dict)  # job id -> step of the one shown

    @property
    def job_ids(self) -> list[str]:
        return [spec.job_id for spec in self.specs]


@dataclass
class _Farm:
    by_queue: dict[str, list[WorkerInfo]] = field(default_factory=dict)

    @property
    def workers(self) -> list[WorkerInfo]:
        return [w for workers in self.by_queue.values() for w in workers]


class RemoteExecutor:
    keeps_running = True  # a bot that stops leaves its jobs to the workers

    def __init__(self, url: str, *, heartbeat_s: int, timeout_s: int) -> None:
        self.url = url
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s
        self.queue: Any = None  # saq.Queue, imported at start: Redis for the photos and videos
        self._queues: dict[str, Any] = {}  # the workers' queues, by name
        self._inflight: dict[str, _InFlight] = {}
        self._events: asyncio.Queue[WorkEvent | None] = asyncio.Queue()
        self._farm = _Farm()
        self._monitor: asyncio.Task[None] | None = None
        self._down_since: float | None = None

    # The executor port

    @property
    def slots(self) -> int:
        return max(1, len(self._farm.workers))

    def free_slots(self) -> int:
        return max(0, len(self._farm.workers) - len(self._inflight))

    def can_run(self, model: str) -> bool:
        return self._queue_for(model) is not None

    def warm_model(self) -> str | None:
        return None  # which worker of a queue takes a job is up to the workers

    def _queue_for(self, model: str) -> str | None:
        """The queue with the most idle workers among those whose workers offer `model`
        (the fewest other models first: the larger machines stay free for what only they
        run); None when none is free."""
        free = {name: len(workers) - sum(f.queue == name for f in self._inflight.values())
                for name, workers in self._farm.by_queue.items()
                if model in queue_models(name)}
        best = max(free, key=lambda n: (free[n], -len(queue_models(n))), default=None)
        return best if best is not None and free[best] > 0 else None

    def describe(self) -> str:
        return f"{len(self._farm.workers)} remote worker(s) through Redis at {redacted(self.url)}"

    def workers(self) -> list[WorkerInfo]:
        return list(self._farm.workers)

    async def start(self) -> None:
        from saq import Queue

        self.queue = Queue.from_url(self.url, name=QUEUE, swept_error_message=SWEPT)
        try:
            await self.queue.connect()
            await self.queue.redis.ping()
        except (OSError, ConnectionError, TimeoutError) as exc:
            raise ExecutorUnavailable(f"Redis at {redacted(self.url)} could not be reached: "
                                      "check I2V_REDIS_URL and that Redis runs.") from exc
        except Exception as exc:  # redis-py's own errors (authentication, protocol)
            raise ExecutorUnavailable(f"Redis at {redacted(self.url)} refused the "
                                      f"connection ({type(exc).__name__}): check "
                                      "I2V_REDIS_URL.") from exc
        await self._read_workers()
        self._monitor = asyncio.create_task(self._watch(), name="remote-executor")

    async def _queue(self, name: str) -> Any:
        from saq import Queue

        queue = self._queues.get(name)
        if queue is None:
            queue = Queue.from_url(self.url, name=name, swept_error_message=SWEPT)
            await queue.connect()
            self._queues[name] = queue
        return queue

    async def submit(self, specs: Sequence[RenderSpec]) -> None:
        from saq import Job

        name = self._queue_for(specs[0].params.model)
        if name is None:
            raise RuntimeError(f"no free worker offers {specs[0].params.model}")
        queue = await self._queue(name)
        key = batch_key([spec.job_id for spec in specs])
        async with self.queue.redis.pipeline(transaction=True) as pipe:
            for spec in specs:
                if spec.photo is not None:
                    pipe.setex(photo_key(spec.job_id), BLOB_TTL_S, spec.photo.read_bytes())
                pipe.setex(_index_key(spec.job_id), BLOB_TTL_S, f"{name}|{key}")
                if spec.extends is not None:
                    pipe.setex(extends_key(spec.job_id), BLOB_TTL_S, spec.extends.read_bytes())
            await pipe.execute()
        self._inflight[key] = _InFlight(list(specs), name)
        await queue.enqueue(Job(
            FUNCTION, key=key, kwargs={"jobs": [spec_to_wire(spec) for spec in specs]},
            timeout=self.timeout_s, heartbeat=self.heartbeat_s, retries=1, ttl=BLOB_TTL_S))
        log.info("jobs %s: sent to the workers of %s", key, name)

    async def cancel(self, job_id: str) -> None:
        for key, flight in self._inflight.items():
            if job_id in flight.job_ids:
                flight.cancelled = True
                queue = await self._queue(flight.queue)
                job = await queue.job(key)
                if job is not None:
                    await queue.abort(job, CANCELLED)

    async def next_event(self) -> WorkEvent | None:
        return await self._events.get()

    async def stop(self) -> None:
        """Stop watching; the workers go on, and the next start reattaches their jobs."""
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        for queue in [self.queue, *self._queues.values()]:
            if queue is not None:
                with contextlib.suppress(Exception):
                    await queue.disconnect()

    async def reattach(self, specs: Sequence[RenderSpec]) -> list[str]:
        """Jobs a previous bot process dispatched: those Redis still knows are watched
        again (running, or finished and waiting to be fetched); returns their ids."""
        by_id = {spec.job_id: spec for spec in specs}
        keys = await self.queue.redis.mget([_index_key(i) for i in by_id]) if by_id else []
        adopted: list[str] = []
        for raw in {k for k in keys if k}:
            name, _, key = raw.decode().rpartition("|")
            name = name or QUEUE  # written before the queues were per set of models
            job = await (await self._queue(name)).job(key)
            members = [by_id[i] for i in job_ids(key) if i in by_id]
            if job is None or not members:
                continue
            self._inflight[key] = _InFlight(members, name,
                                            started=job.status.value == "active")
            adopted += [spec.job_id for spec in members]
            log.info("jobs %s: still known to the workers (%s); watching them again", key,
                     job.status.value)
        return adopted

    # Watching

    async def _watch(self) -> None:
        last_workers = last_sweep = time.monotonic()
        while True:
            await asyncio.sleep(POLL_S)
            try:
                now = time.monotonic()
                if now - last_workers >= WORKERS_EVERY_S:
                    last_workers = now
                    await self._read_workers()
                if now - last_sweep >= SWEEP_EVERY_S:
                    last_sweep = now
                    for queue in list(self._queues.values()):
                        await queue.sweep(lock=int(SWEEP_EVERY_S), abort=1.0)
                await self._look()
                if self._down_since is not None:
                    log.warning("Redis at %s answers again", redacted(self.url))
                    self._down_since = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting, a network hiccup: keep trying
                if self._down_since is None:
                    self._down_since = time.monotonic()
                    log.warning("Redis at %s: %s; retrying", redacted(self.url), exc)

    async def _read_workers(self) -> None:
        names = sorted(n.decode() for n in await self.queue.redis.smembers(QUEUES_KEY))
        by_queue = {}
        for name in names:
            info = await (await self._queue(name)).info()
            by_queue[name] = [_worker(key, data) for key, data in info["workers"].items()]
        before = {n: len(w) for n, w in self._farm.by_queue.items() if w}
        self._farm = _Farm({n: w for n, w in by_queue.items() if w})
        if {n: len(w) for n, w in self._farm.by_queue.items()} != before:
            log.info("%d worker(s) live: %s", len(self._farm.workers), ", ".join(
                f"{len(w)} on {n}" for n, w in self._farm.by_queue.items()) or "none")
            self._events.put_nowait(None)  # the dispatcher may have new slots

    async def _look(self) -> None:
        if not self._inflight:
            return
        for name in {flight.queue for flight in self._inflight.values()}:
            keys = [key for key, flight in self._inflight.items() if flight.queue == name]
            jobs = await (await self._queue(name)).jobs(keys)
            for key, job in zip(keys, jobs, strict=True):
                await self._follow(key, self._inflight[key], job)

    async def _follow(self, key: str, flight: _InFlight, job: Any) -> None:
        """Events from what a worker wrote on a job since the last look."""
        if job is None:  # Redis lost it (a restart without persistence)
            self._end(key, [WorkEvent(WorkKind.STOPPED, i) for i in flight.job_ids])
            log.warning("jobs %s: gone from Redis; back in line", key)
            return
        status = job.status.value
        if status in ("active", "aborting", "complete", "failed") and not flight.started:
            flight.started = True
            for job_id in flight.job_ids:
                self._events.put_nowait(WorkEvent(WorkKind.STARTED, job_id))
        meta = job.meta or {}
        if meta.get("step", 0) > flight.step:
            flight.step = meta["step"]
            for job_id in flight.job_ids:
                self._events.put_nowait(WorkEvent(WorkKind.PROGRESS, job_id,
                                                  step=meta["step"], total=meta["total"]))
        await self._previews(flight, meta)
        if meta.get("phase") == "encoding" and not flight.encoding:
            flight.encoding = True
            for job_id in flight.job_ids:
                self._events.put_nowait(WorkEvent(WorkKind.ENCODING, job_id))
        if status == "complete":
            self._end(key, await self._collect(flight, job.result or {}))
        elif status == "failed":
            detail = (job.error or "").strip().splitlines()[-1:] or ["failed"]
            self._end(key, [WorkEvent(WorkKind.FAILED, i, reason="internal_error",
                                      detail=detail[0]) for i in flight.job_ids])
        elif status == "aborted":
            lost = (job.error or "") == SWEPT and not flight.cancelled
            kind = WorkKind.LOST if lost else WorkKind.STOPPED
            self._end(key, [WorkEvent(kind, i, detail=job.error) for i in flight.job_ids])

    async def _previews(self, flight: _InFlight, meta: dict[str, Any]) -> None:
        """Each job's newest preview, when the worker wrote one since the last look (only
        the newest: one that was replaced before this look is never fetched)."""
        steps: dict[str, int] = meta.get("previews") or {}
        new = [job_id for job_id, step in steps.items()
               if job_id in flight.job_ids and step > flight.previews.get(job_id, 0)]
        if not new:
            return
        images = await self.queue.redis.mget([preview_key(job_id) for job_id in new])
        for job_id, image in zip(new, images, strict=True):
            flight.previews[job_id] = steps[job_id]
            if image is not None:
                self._events.put_nowait(WorkEvent(
                    WorkKind.PROGRESS, job_id, step=steps[job_id], total=meta["total"],
                    preview=image))

    async def _collect(self, flight: _InFlight, result: dict[str, Any]) -> list[WorkEvent]:
        """Each job's end from the worker's result; finished videos fetched to disk."""
        events = []
        for spec in flight.specs:
            outcome = result.get(spec.job_id) or {"done": False, "reason": "internal_error",
                                                  "detail": "no result from the worker"}
            if outcome.get("done"):
                video, poster = await self.queue.redis.mget(video_key(spec.job_id),
                                                            poster_key(spec.job_id))
                if video is None or poster is None:
                    outcome = {"done": False, "reason": "video_lost",
                               "detail": "the worker's video expired before it was fetched"}
                else:
                    await asyncio.to_thread(_store, spec.output, video, poster)
            events.append(outcome_from_wire(spec.job_id, outcome, spec.output))
        return events

    def _end(self, key: str, events: list[WorkEvent]) -> None:
        flight = self._inflight.pop(key)
        for event in events:
            self._events.put_nowait(event)
        self._events.put_nowait(None)  # a slot is free
        asyncio.create_task(self._forget(key, flight.queue))

    async def _forget(self, key: str, name: str) -> None:
        """Results are removed once the bot has them (the MP4 is on its disk now)."""
        with contextlib.suppress(Exception):
            await self.queue.redis.delete(*[k for i in job_ids(key) for k in (
                photo_key(i), video_key(i), poster_key(i), extends_key(i), _index_key(i),
                preview_key(i))],
                (await self._queue(name)).job_id(key))


def _index_key(job_id: str) -> str:
    return f"i2v:batch-of:{job_id}"


def _store(output: Path, video: bytes, poster: bytes) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output.with_suffix(".jpg"), poster)
    write_atomic(output, video)


def _worker(key: str, data: dict[str, Any]) -> WorkerInfo:
    meta = data.get("metadata") or {}
    stats = data.get("stats") or {}
    return WorkerInfo(name=meta.get("host", key), gpu=meta.get("gpu", "?"),
                      models=tuple(meta.get("models", ())), busy=bool(meta.get("busy")),
                      jobs_done=int(stats.get("complete", 0)),
                      jobs_failed=int(stats.get("failed", 0)),
                      free_memory_gib=meta.get("free_memory_gib"), running=meta.get("busy"))
