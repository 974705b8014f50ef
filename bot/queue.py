"""The one-GPU job queue: a single worker takes the fairest next job and runs the engine.

The engine runs in a worker thread (never on the event loop); progress comes back through
`call_soon_threadsafe`, cancellation goes in through a `threading.Event` the engine checks
between steps. Every state change is written to the store before it is announced, so a
restart finds queued jobs still queued and a job cut off while running is retried once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from bot.events import EventBus
from bot.models import EventKind, Job, JobEvent, JobStatus, Role, VideoResult
from bot.outputs import Outputs
from bot.ports import Renderer
from bot.quotas import Quotas
from bot.scheduling import fair_order
from bot.store import Store
from bot.texts import error_text, language, text
from engine.errors import GenerationCancelled, GenerationFailed, UserError
from engine.generator import Clip, VideoJob, batch_key
from engine.images import load_photo
from engine.video import encode_mp4

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # a job cut off by a restart is tried once more
PAUSED_FLAG = "queue_paused"
STOP_TIMEOUT_S = 60.0  # a step of the max preset on a slow GPU stays well under this


@dataclass
class _Batch:
    """The jobs on the GPU now: one, or several compatible ones run as one batch."""

    jobs: list[Job]
    stop: threading.Event = field(default_factory=threading.Event)
    cancelled: set[str] = field(default_factory=set)
    shutdown: bool = False
    fraction: float = 0.0

    def has(self, job_id: str) -> bool:
        return any(j.id == job_id for j in self.jobs)


class JobQueue:
    def __init__(self, store: Store, quotas: Quotas, outputs: Outputs, renderer: Renderer,
                 events: EventBus, max_batch: int = 1) -> None:
        self.store = store
        self.max_batch = max_batch
        self.quotas = quotas
        self.outputs = outputs
        self.renderer = renderer
        self.events = events
        self._wake = asyncio.Event()
        self._running: _Batch | None = None
        self._worker: asyncio.Task[None] | None = None
        self._paused = False
        self._stopping = False

    # Lifecycle

    async def start(self) -> None:
        self._paused = await self.store.get_flag(PAUSED_FLAG) == "1"
        await self.recover()
        self._worker = asyncio.create_task(self._work(), name="gpu-worker")

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop after the current denoising step; interrupted jobs go back to the queue as
        they were, so a restart does not count against their one retry."""
        if self._worker is None:
            return
        self._stopping = True
        if self._running:
            self._running.shutdown = True
            self._running.stop.set()
        self.wake()
        try:
            await asyncio.wait_for(self._worker, timeout)
        except TimeoutError:  # the worker was cancelled: its job is retried at the next start
            log.warning("the GPU worker did not stop within %.0f s", timeout)
        self._worker = None

    async def recover(self) -> None:
        """Requeue jobs a dead process left running, and settle any credit they hold."""
        for job in await self.store.jobs_with_status(JobStatus.RUNNING):
            if job.attempts < MAX_ATTEMPTS:
                log.warning("job %s user %s: cut off by a restart, trying again", job.id,
                            job.user_id)
                await self.store.update_job(job.id, status=JobStatus.QUEUED,
                                            note="restarted")
            else:
                log.error("job %s user %s: cut off by restarts twice, giving up", job.id,
                          job.user_id)
                await self._finish(job, JobStatus.FAILED, "interrupted")
        for row in await self.store.rows(
                """SELECT jobs.id FROM jobs JOIN ledger ON ledger.job_id = jobs.id
                   WHERE jobs.status IN ('failed', 'cancelled')
                   GROUP BY jobs.id HAVING sum(ledger.delta) < 0"""):
            job = await self.store.get_job(row["id"])
            assert job is not None
            await self.quotas.refund(job, "settled after a restart")
        for job in await self.store.jobs_with_status(JobStatus.QUEUED):
            await self.announce(job)

    # Queue state

    @property
    def paused(self) -> bool:
        return self._paused

    async def set_paused(self, paused: bool) -> None:
        await self.store.set_flag(PAUSED_FLAG, "1" if paused else "0")
        self._paused = paused
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    async def ordered(self) -> list[Job]:
        """Queued jobs in the order they will run."""
        queued = await self.store.jobs_with_status(JobStatus.QUEUED)
        users = {j.user_id for j in queued}
        roles, last_served = {}, {}
        for user_id in users:
            user = await self.store.get_user(user_id)
            roles[user_id] = user.role if user else Role.USER
        for row in await self.store.rows(
                "SELECT user_id, max(started_at) FROM jobs WHERE started_at IS NOT NULL "
                "GROUP BY user_id"):
            if row[0] in users:
                last_served[row[0]] = row[1]
        return fair_order(queued, roles, last_served)

    async def position(self, job: Job) -> tuple[int, float | None]:
        """1-based place in line and an estimate of the wait, from recent run times."""
        order = await self.ordered()
        ids = [j.id for j in order]
        ahead = order[: ids.index(job.id)] if job.id in ids else []
        per_credit = await self.store.recent_run_seconds_per_credit()
        eta = None
        if per_credit is not None:
            work = sum(j.cost for j in ahead)
            if self._running:
                running_cost = sum(j.cost for j in self._running.jobs)
                work += running_cost * (1 - self._running.fraction)
            eta = work * per_credit
        return len(ahead) + 1, eta

    async def announce(self, job: Job) -> None:
        pos, eta = await self.position(job)
        await self._emit(EventKind.QUEUED, job, position=pos, eta_seconds=eta,
                         message=text("paused", await self._lang(job)) if self._paused
                         else None)

    # Cancellation

    async def cancel(self, job: Job, actor: str) -> Job:
        async with self.store.transaction():
            current = await self.store.get_job(job.id)
            assert current is not None
            if current.status is JobStatus.QUEUED:
                log.info("job %s user %s: cancelled while queued by %s", job.id, job.user_id,
                         actor)
                return await self._finish(current, JobStatus.CANCELLED, None)
        if current.status is JobStatus.RUNNING and self._running \
                and self._running.has(job.id):
            log.info("job %s user %s: cancel requested while running by %s", job.id,
                     job.user_id, actor)
            self._running.cancelled.add(job.id)
            self._running.stop.set()
            return current
        raise UserError("not_cancellable", f"Job {job.id} is already {current.status}.",
                        job=job.id, status=current.status.value)

    # The worker

    async def _work(self) -> None:
        while not self._stopping:
            self._wake.clear()
            batch = await self._claim_next()
            if not batch:
                await self._wake.wait()
                continue
            try:
                await self._run(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker must outlive any one job
                log.exception("jobs %s: unexpected error in the worker",
                              [j.id for j in batch])

    async def _claim_next(self) -> list[Job]:
        """The fairest next job, plus queued jobs that can share its batch (same size,
        frames, steps, guidance and fps) when batching is on."""
        if self._paused or self._stopping:
            return []
        async with self.store.transaction():
            order = await self.ordered()
            if not order:
                return []
            key = batch_key(order[0].params)
            chosen = [j for j in order if batch_key(j.params) == key][: self.max_batch]
            now = time.time()
            return [await self.store.update_job(j.id, status=JobStatus.RUNNING,
                                                attempts=j.attempts + 1, started_at=now,
                                                error=None)
                    for j in chosen]

    async def _run(self, jobs: list[Job]) -> None:
        batch = self._running = _Batch(jobs)
        for job in jobs:
            log.info("job %s user %s: started (attempt %d, batch of %d)", job.id, job.user_id,
                     job.attempts, len(jobs))
            await self._emit(EventKind.STARTED, job)
        loop = asyncio.get_running_loop()

        def on_step(step: int, total: int) -> None:
            batch.fraction = step / total
            for job in batch.jobs:
                loop.call_soon_threadsafe(self._progress, job, step, total)

        try:
            clips = await self._generate(batch, on_step)
            # Still "running" while encoding, so a cancel now is honoured, not refused.
            for job, clip in zip(batch.jobs, clips, strict=True):
                await self._deliver(job, clip, batch)
        finally:
            self._running = None

    async def _generate(self, batch: _Batch, on_step: Callable[[int, int], None]) -> list[Clip]:
        """Frames for every job of the batch whose photo loads; [] when none is left."""
        photos = await asyncio.to_thread(self._load_photos, batch.jobs)
        ready = []
        for job, photo in zip(batch.jobs, photos, strict=True):
            if isinstance(photo, UserError):
                await self._finish(job, JobStatus.FAILED, photo)
            else:
                ready.append((job, photo))
        batch.jobs = [job for job, _ in ready]
        if not ready:
            return []
        try:
            return await asyncio.to_thread(
                self.renderer.generate, [VideoJob(p, j.params) for j, p in ready], on_step,
                batch.stop.is_set)
        except GenerationCancelled:
            await self._stopped(batch)
        except Exception as exc:
            if not isinstance(exc, UserError):
                log.exception("jobs %s: generation failed", [j.id for j in batch.jobs])
            for job in batch.jobs:
                await self._finish(job, JobStatus.FAILED, exc)
        batch.jobs = []
        return []

    async def _stopped(self, batch: _Batch) -> None:
        """Generation stopped between steps: cancelled jobs end, the others of the batch
        (and every job, at shutdown) go back to the queue as they were."""
        for job in batch.jobs:
            if job.id in batch.cancelled:
                await self._finish(job, JobStatus.CANCELLED, None)
            else:  # not served after all: it keeps its owner's turn in the fair order
                await self.store.update_job(job.id, status=JobStatus.QUEUED,
                                            attempts=job.attempts - 1, started_at=None)
                log.info("job %s: back in the queue (%s)", job.id,
                         "shutdown" if batch.shutdown else "its batch was stopped")
        self.wake()

    async def _deliver(self, job: Job, clip: Clip, batch: _Batch) -> None:
        """Encode one finished clip and announce it, unless its owner cancelled meanwhile
        (during the last step, the VAE decode or the encoding itself)."""
        try:
            if clip.params != job.params or clip.note:
                job = await self.store.update_job(job.id, params=clip.params, note=clip.note)
            if job.id not in batch.cancelled:
                await self._emit(EventKind.ENCODING, job)
                result = await asyncio.to_thread(self._encode, job, clip.frames)
        except Exception as exc:
            if not isinstance(exc, UserError):
                log.exception("job %s user %s: encoding failed", job.id, job.user_id)
            await self._finish(job, JobStatus.FAILED, exc)
            return
        if job.id in batch.cancelled:
            await self._finish(job, JobStatus.CANCELLED, None)
            return
        job = await self.store.update_job(job.id, status=JobStatus.DONE,
                                          finished_at=time.time(), output_path=result.path)
        log.info("job %s user %s: done in %.1f s -> %s", job.id, job.user_id,
                 job.run_seconds or 0, result.path)
        await self._emit(EventKind.DONE, job, result=result)

    @staticmethod
    def _load_photos(jobs: list[Job]) -> list[Image.Image | UserError]:
        photos: list[Image.Image | UserError] = []
        for job in jobs:
            try:
                if not job.input_path.exists():
                    raise UserError("input_missing",
                                    "The photo of this job is gone; send it again.")
                photos.append(load_photo(job.input_path.read_bytes()))
            except UserError as exc:
                photos.append(exc)
        return photos

    def _encode(self, job: Job, frames: np.ndarray) -> VideoResult:
        path = self.outputs.video_path(job)
        video = encode_mp4(frames, job.params.fps, path, max_bytes=job.chat.get("max_bytes"))
        params_path = self.outputs.write_params(job, video.path, {
            "width": video.width, "height": video.height, "frames": video.frames,
            "fps": video.fps, "duration": video.duration, "note": job.note})
        return VideoResult(path=video.path, poster=video.poster, params_path=params_path,
                           width=video.width, height=video.height, frames=video.frames,
                           fps=video.fps, duration=video.duration, size_bytes=video.size_bytes)

    def _progress(self, job: Job, step: int, total: int) -> None:
        self.events.publish(JobEvent(EventKind.PROGRESS, job, language=_chat_lang(job),
                                     step=step, total_steps=total))

    async def _finish(self, job: Job, status: JobStatus, error: Exception | str | None) -> Job:
        """End a job that did not succeed and give its credits back, in one transaction."""
        lang = await self._lang(job)
        if isinstance(error, UserError):
            reason, message = str(error), error_text(error, lang)
        elif isinstance(error, GenerationFailed):  # out of memory, NaN frames: say what helps
            reason, message = f"{type(error).__name__}: {error}", str(error)
        elif isinstance(error, str):
            reason, message = error, text(error, lang)
        elif error is not None:
            reason, message = f"{type(error).__name__}: {error}", text("internal_error", lang)
        else:
            reason, message = None, None
        async with self.store.transaction():
            job = await self.store.update_job(job.id, status=status, finished_at=time.time(),
                                              error=reason)
            await self.quotas.refund(job, status.value)
        kind = EventKind.CANCELLED if status is JobStatus.CANCELLED else EventKind.FAILED
        await self._emit(kind, job, message=message)
        return job

    async def _emit(self, kind: EventKind, job: Job, **fields: Any) -> None:
        self.events.publish(JobEvent(kind, job, language=await self._lang(job), **fields))

    async def _lang(self, job: Job) -> str:
        if "lang" in job.chat:
            return _chat_lang(job)
        user = await self.store.get_user(job.user_id)
        return language(user.language if user else None)


def _chat_lang(job: Job) -> str:
    return language(job.chat.get("lang"))
