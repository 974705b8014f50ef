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

The bot's store is the truth and Redis a cache of it. While Redis cannot be reached nothing
is dispatched (the jobs wait in the bot's line). When it answers again, a job whose record
is gone (Redis restarted empty) is sent again at once, under a new key, its photo uploaded
again from the bot's own copy; one whose worker gave it up during the outage is swept and
sent again too, without counting against its one retry: the outage lost it, not a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from saq.job import Job, Status

from bot.executors.base import WorkerInfo
from bot.executors.redis_link import RETRY_S, Queue, check, redacted
from bot.executors.wire import (
    BLOB_TTL_S,
    CANCELLED,
    FUNCTION,
    QUEUE,
    QUEUES_KEY,
    SWEPT,
    dispatch_key,
    extends_key,
    index_key,
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
DISCONNECT_S = 2.0


@dataclass
class _InFlight:
    specs: list[RenderSpec]
    queue: str  # the name of the queue it was sent to
    started: bool = False
    step: int = 0
    encoding: bool = False
    cancelled: bool = False
    previews: dict[str, int] = field(default_factory=dict)  # job id -> step of the one shown
    outage: bool = False  # Redis was away while it ran: a sweep then is the outage's doing
    abort_sent: bool = False

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
        self.queue: Queue | None = None  # Redis for the photos and videos
        self._queues: dict[str, Queue] = {}  # the workers' queues, by name
        self._inflight: dict[str, _InFlight] = {}
        self._events: asyncio.Queue[WorkEvent | None] = asyncio.Queue()
        self._farm = _Farm()
        self._monitor: asyncio.Task[None] | None = None
        self._away_since: float | None = None  # wall clock: when Redis stopped answering

    # The executor port

    @property
    def slots(self) -> int:
        return max(1, len(self._farm.workers))

    def free_slots(self) -> int:
        if self._away_since is not None:  # what Redis holds now is unknown: send nothing
            return 0
        return max(0, len(self._farm.workers) - len(self._inflight))

    def unreachable_since(self) -> float | None:
        return self._away_since

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
        self.queue = Queue(self.url, QUEUE)
        await check(self.queue, self.url)
        await self._read_workers()
        self._monitor = asyncio.create_task(self._watch(), name="remote-executor")

    @property
    def _redis(self) -> Any:
        assert self.queue is not None, "start() first"
        return self.queue.redis

    async def _queue(self, name: str) -> Queue:
        queue = self._queues.get(name)
        if queue is None:
            queue = Queue(self.url, name)
            await queue.connect()
            self._queues[name] = queue
        return queue

    async def submit(self, specs: Sequence[RenderSpec]) -> None:
        """Send a batch to the workers; raises, with nothing sent, when Redis cannot take
        it (then nothing more is sent until it answers again)."""
        name = self._queue_for(specs[0].params.model)
        if name is None:
            raise RuntimeError(f"no free worker offers {specs[0].params.model}")
        key = dispatch_key([spec.job_id for spec in specs])
        blobs: dict[str, bytes] = {}
        for spec in specs:  # the bot's own copies, uploaded again at every dispatch
            blobs[index_key(spec.job_id)] = f"{name}|{key}".encode()
            for blob, path in ((photo_key(spec.job_id), spec.photo),
                               (extends_key(spec.job_id), spec.extends)):
                if path is not None and (data := _read(path, spec.job_id)) is not None:
                    blobs[blob] = data  # a missing one fails the job on the worker
        try:
            queue = await self._queue(name)
            async with self._redis.pipeline(transaction=True) as pipe:
                for blob, data in blobs.items():
                    pipe.setex(blob, BLOB_TTL_S, data)
                await pipe.execute()
            await queue.enqueue(Job(
                FUNCTION, key=key, kwargs={"jobs": [spec_to_wire(spec) for spec in specs]},
                timeout=self.timeout_s, heartbeat=self.heartbeat_s, retries=1,
                ttl=BLOB_TTL_S))
        except (RedisError, OSError) as exc:
            self._away(exc)
            await self._forget(key, name)
            raise
        self._inflight[key] = _InFlight(list(specs), name)
        log.info("jobs %s: sent to the workers of %s", key, name)

    async def cancel(self, job_id: str) -> None:
        for key, flight in list(self._inflight.items()):
            if job_id in flight.job_ids:
                flight.cancelled = True
                try:
                    await self._abort(key, flight)
                except (RedisError, OSError) as exc:  # sent when Redis answers again
                    self._away(exc)

    async def _abort(self, key: str, flight: _InFlight) -> None:
        queue = await self._queue(flight.queue)
        job = await queue.job(key)
        if job is not None:
            await queue.abort(job, CANCELLED)
        flight.abort_sent = True

    async def next_event(self) -> WorkEvent | None:
        return await self._events.get()

    async def stop(self) -> None:
        """Stop watching; the workers go on, and the next start reattaches their jobs."""
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        for queue in [self.queue, *self._queues.values()]:
            if queue is not None:  # a Redis that never answered must not hold the stop up
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(queue.disconnect(), DISCONNECT_S)

    async def reattach(self, specs: Sequence[RenderSpec]) -> list[str]:
        """Jobs a previous bot process dispatched: those Redis still knows are watched
        again (running, or finished and waiting to be fetched); returns their ids."""
        by_id = {spec.job_id: spec for spec in specs}
        keys = await self._redis.mget([index_key(i) for i in by_id]) if by_id else []
        adopted: list[str] = []
        for raw in {k for k in keys if k}:
            name, _, key = raw.decode().rpartition("|")
            name = name or QUEUE  # written before the queues were per set of models
            job = await (await self._queue(name)).job(key)
            members = [by_id[i] for i in job_ids(key) if i in by_id]
            if job is None or not members:
                continue
            self._inflight[key] = _InFlight(members, name,
                                            started=job.status is Status.ACTIVE)
            adopted += [spec.job_id for spec in members]
            log.info("jobs %s: still known to the workers (%s); watching them again", key,
                     job.status.value)
        return adopted

    # Watching

    async def _watch(self) -> None:
        next_workers = time.monotonic() + WORKERS_EVERY_S
        next_sweep = time.monotonic() + SWEEP_EVERY_S
        while True:
            await asyncio.sleep(POLL_S if self._away_since is None else RETRY_S)
            try:
                now = time.monotonic()
                if self._away_since is not None:
                    await self._redis.ping()
                    # Back: who is there now, before anything is sent, and which jobs
                    # their workers gave up meanwhile (their records are stale by now).
                    next_workers = next_sweep = now
                if now >= next_workers:
                    next_workers = now + WORKERS_EVERY_S
                    await self._read_workers()
                if now >= next_sweep:
                    next_sweep = now + SWEEP_EVERY_S
                    for queue in list(self._queues.values()):
                        await queue.sweep(lock=int(SWEEP_EVERY_S), abort=1.0)
                await self._look()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting, a network hiccup: keep trying
                self._away(exc)
            else:
                self._back()

    def _away(self, exc: Exception) -> None:
        for flight in self._inflight.values():
            flight.outage = True
        if self._away_since is None:
            self._away_since = time.time()
            log.warning("Redis at %s cannot be reached (%s): nothing is sent to the workers "
                        "until it answers", redacted(self.url), exc)
            self._events.put_nowait(None)  # the lifecycle notes it

    def _back(self) -> None:
        if self._away_since is not None:
            log.warning("Redis at %s answers again (away %.0f s)", redacted(self.url),
                        time.time() - self._away_since)
            self._away_since = None
            self._events.put_nowait(None)

    async def _read_workers(self) -> None:
        # The registry, and the queues already known: a Redis restarted empty has lost the
        # registry until the workers' next heartbeat, not their queues' worker entries.
        names = {n.decode() for n in await self._redis.smembers(QUEUES_KEY)} | set(self._queues)
        by_queue = {}
        for name in sorted(names):
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

    async def _follow(self, key: str, flight: _InFlight, job: Job | None) -> None:
        """Events from what a worker wrote on a job since the last look."""
        if job is None:  # Redis lost it (a restart without persistence): its worker stops
            log.warning("jobs %s: gone from Redis; back in line, to be sent again", key)
            await self._end(key, [WorkEvent(WorkKind.STOPPED, i) for i in flight.job_ids])
            return
        status = job.status
        if flight.cancelled and not flight.abort_sent and status in (Status.QUEUED,
                                                                     Status.ACTIVE):
            await self._abort(key, flight)  # cancelled while Redis was away
        if status in (Status.ACTIVE, Status.ABORTING, Status.COMPLETE, Status.FAILED) \
                and not flight.started:
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
        if status is Status.COMPLETE:
            await self._end(key, await self._collect(flight, job.result or {}))
        elif status is Status.FAILED:
            detail = (job.error or "").strip().splitlines()[-1:] or ["failed"]
            await self._end(key, [WorkEvent(WorkKind.FAILED, i, reason="internal_error",
                                            detail=detail[0]) for i in flight.job_ids])
        elif status is Status.ABORTED:
            lost = (job.error or "") == SWEPT and not flight.cancelled and not flight.outage
            kind = WorkKind.LOST if lost else WorkKind.STOPPED
            if flight.outage and not flight.cancelled:
                log.warning("jobs %s: given up during the Redis outage; back in line", key)
            await self._end(key, [WorkEvent(kind, i, detail=job.error)
                                  for i in flight.job_ids])

    async def _previews(self, flight: _InFlight, meta: dict[str, Any]) -> None:
        """Each job's newest preview, when the worker wrote one since the last look (only
        the newest: one that was replaced before this look is never fetched)."""
        steps: dict[str, int] = meta.get("previews") or {}
        new = [job_id for job_id, step in steps.items()
               if job_id in flight.job_ids and step > flight.previews.get(job_id, 0)]
        if not new:
            return
        images = await self._redis.mget([preview_key(job_id) for job_id in new])
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
                video, poster = await self._redis.mget(video_key(spec.job_id),
                                                       poster_key(spec.job_id))
                if video is None or poster is None:
                    outcome = {"done": False, "reason": "video_lost",
                               "detail": "the worker's video expired before it was fetched"}
                else:
                    await asyncio.to_thread(_store, spec.output, video, poster)
            events.append(outcome_from_wire(spec.job_id, outcome, spec.output))
        return events

    async def _end(self, key: str, events: list[WorkEvent]) -> None:
        flight = self._inflight.pop(key)
        # Before the lifecycle hears of it: a job sent again at once has its photo uploaded
        # again after this, never removed by it.
        await self._forget(key, flight.queue)
        for event in events:
            self._events.put_nowait(event)
        self._events.put_nowait(None)  # a slot is free

    async def _forget(self, key: str, name: str) -> None:
        """A dispatch's keys are removed once the bot has its end (an MP4 is on its disk
        now); whatever Redis keeps when it cannot be reached expires by itself."""
        with contextlib.suppress(Exception):
            await self._redis.delete(*[k for i in job_ids(key) for k in (
                photo_key(i), video_key(i), poster_key(i), extends_key(i), index_key(i),
                preview_key(i))],
                (await self._queue(name)).job_id(key))


def _read(path: Path, job_id: str) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        log.error("job %s: its file %s is gone from the bot's disk", job_id, path)
        return None


def _store(output: Path, video: bytes, poster: bytes) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output.with_suffix(".jpg"), poster)
    write_atomic(output, video)


def _worker(key: str, data: Mapping[str, Any]) -> WorkerInfo:
    meta = data.get("metadata") or {}
    stats = data.get("stats") or {}
    busy = meta.get("busy")  # the key of the dispatch it runs
    return WorkerInfo(name=meta.get("host", key), gpu=meta.get("gpu", "?"),
                      models=tuple(meta.get("models", ())), busy=bool(busy),
                      jobs_done=int(stats.get("complete", 0)),
                      jobs_failed=int(stats.get("failed", 0)),
                      free_memory_gib=meta.get("free_memory_gib"),
                      running="+".join(job_ids(busy)) if busy else None)
