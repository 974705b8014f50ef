"""Every state change of a job after it was accepted: persisted first, then announced.

    queued -> running -> done -> delivered        (credits kept)
         \\        \\-> failed | cancelled          (credits given back)
          \\-> cancelled

The scheduler decides the order; this class claims the next batch whenever the executor has
a free slot, turns the executor's events into stored states and chat events, and settles
credits. Cancels and pauses take effect between two denoising steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.errors import UserError
from bot.events import EventBus
from bot.executors.base import Executor, WorkerInfo
from bot.jobs.scheduler import Entry, FairQueue
from bot.models import EventKind, Job, JobEvent, JobStatus, Note, Role
from bot.moderation import Moderation
from bot.outputs import Outputs
from bot.provenance.marking import Marking, Unsigned
from bot.quotas import Quotas
from bot.store import Store
from bot.texts import language
from engine.spec.params import GenParams, batch_key, card
from engine.spec.work import PreviewPlan, RenderSpec, WorkEvent, WorkKind

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # a job cut off by a crash or a lost worker is tried once more
PAUSED_FLAG = "queue_paused"
UNREACHABLE_FLAG = "workers_unreachable_since"  # for `i2vbot doctor`: a Unix time, or ""
ANNOUNCE_PER_SECOND = 10.0  # re-announcing places after a restart leaves room for live traffic
NO_PREVIEWS = PreviewPlan()

Clock = Callable[[], float]


class Watcher(Protocol):
    """Told of every start and end (the metrics)."""

    def started(self, job: Job) -> None: ...

    def ended(self, job: Job) -> None: ...


@dataclass
class _Running:
    job: Job
    privileged: bool
    served_before: float | None  # the owner's last-served time before this claim
    fraction: float = 0.0


class Lifecycle:
    def __init__(self, store: Store, quotas: Quotas, outputs: Outputs, events: EventBus,
                 executor: Executor, moderation: Moderation, max_batch: int = 1,
                 clock: Clock = time.time, marking: Marking | None = None,
                 previews: PreviewPlan = NO_PREVIEWS) -> None:
        self.store = store
        self.quotas = quotas
        self.outputs = outputs
        self.events = events
        self.moderation = moderation
        self._executor = executor
        self.marking: Marking = marking or Unsigned()
        self.max_batch = max_batch
        self.clock = clock
        self.previews = previews  # sent with every job to its worker
        self._scheduler = FairQueue()
        self.paused = False
        self._running: dict[str, _Running] = {}
        # Taken from the line, not yet marked running: job id -> owner. They still count
        # against their owner's cap (a burst of submits must not slip in meanwhile).
        self._claiming: dict[str, int] = {}
        self._cancelling: set[str] = set()
        self._abandoned: set[str] = set()  # ended by `abandon`: their last events are ignored
        self._seconds_per_cost: float | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._recovered: list[str] = []  # jobs waiting since before this start
        self._unreachable_since: float | None = None  # as last stored
        self._watchers: list[Watcher] = []

    # Start and stop

    async def load(self) -> None:
        """Read the queue back from the store and settle what a dead process left. Call
        before accepting jobs; the GPU work starts with `run`."""
        self.paused = await self.store.get_flag(PAUSED_FLAG) == "1"
        self._seconds_per_cost = await self.store.recent_run_seconds_per_cost()
        await self._recover()
        for row in await self.store.queued_rows():
            self._scheduler.add(queue_entry(row.job_id, row.user_id, row.created_at,
                                           row.cost, row.params),
                               privileged=row.role.privileged, served=row.last_served_at)
        self._recovered = [entry.job_id for entry in self._scheduler]
        log.info("queue loaded: %d jobs waiting%s", len(self._scheduler),
                 " (paused)" if self.paused else "")

    async def run(self) -> None:
        """Start serving the queue (the executor is ready), and re-announce places in the
        background: work resumes first."""
        await self._reattach()
        await self.store.set_flag(UNREACHABLE_FLAG, "")  # the executor has just started
        self._wake.set()
        self._tasks = [asyncio.create_task(self._dispatch(), name="dispatch"),
                       asyncio.create_task(self._consume(), name="work-events"),
                       asyncio.create_task(self._announce_all(), name="re-announce")]

    async def stop(self, timeout: float = 30) -> None:
        """Stop after the current denoising step; unfinished jobs go back to the queue as
        they were, so a restart does not count against their one retry."""
        self._stopping = True
        self._wake.set()
        try:
            if timeout > 0:  # 0: the process ends now, and its GPU work with it
                await asyncio.wait_for(self._stop_work(), timeout)
        except TimeoutError:  # its jobs are still 'running' and are retried at the next start
            log.warning("the GPU work did not stop within %.0f s", timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _stop_work(self) -> None:
        await self._executor.stop()
        if self._executor.keeps_running:  # the workers go on; the next start reattaches
            return
        while self._running:
            await asyncio.sleep(0.02)  # the consumer settles the last events

    # Asked by the core

    def enqueue(self, job: Job, privileged: bool, served: float | None) -> JobEvent:
        """A job joins the line. Called inside the transaction that stores it, so that the
        limits of the next submission count it. Returns its place in line now, for the
        caller to `publish` once the job is committed (the GPU may take it meanwhile)."""
        self._scheduler.add(job_entry(job), privileged=privileged, served=served)
        self._wake.set()
        event = self._queued(job)
        assert event is not None
        return event

    def announce(self, job: Job) -> None:
        event = self._queued(job)
        if event is not None:
            self.publish(event)

    def publish(self, event: JobEvent) -> None:
        self.events.publish(event)

    def _queued(self, job: Job) -> JobEvent | None:
        position = self._scheduler.position(job.id)
        if position is None:
            return None
        return JobEvent(EventKind.QUEUED, job, language=language(job.language),
                        position=position, paused=self.paused, eta_seconds=self.eta(position),
                        unreachable=self._executor.unreachable_since() is not None)

    def eta(self, position: int) -> float | None:
        """Seconds until the job at `position` starts, from recent run times per credit."""
        if self._seconds_per_cost is None:
            return None
        work = (position - 1) * self._scheduler.mean_cost
        work += sum(r.job.cost * (1 - r.fraction) for r in self._running.values())
        return work * self._seconds_per_cost / max(1, self._executor.slots)

    def active(self, user_id: int | None = None) -> int:
        """Jobs waiting or running, of one user or of everyone."""
        claiming = [owner for job_id, owner in self._claiming.items()
                    if job_id not in self._running]
        if user_id is None:
            return len(self._scheduler) + len(self._running) + len(claiming)
        running = sum(1 for r in self._running.values() if r.job.user_id == user_id)
        return self._scheduler.waiting(user_id) + running + claiming.count(user_id)

    def running_jobs(self) -> list[Job]:
        return [r.job for r in self._running.values()]

    def waiting(self) -> int:
        """Jobs in line, not yet running."""
        return len(self._scheduler)

    def places(self, user_id: int) -> list[tuple[str, int]]:
        """A user's waiting jobs with their places in line (1 = next)."""
        found = ((job_id, self._scheduler.position(job_id))
                 for job_id in self._scheduler.jobs_of(user_id))
        return [(job_id, place) for job_id, place in found if place is not None]

    def withdraw(self, job_id: str) -> None:
        """Take a job out of the line whose store transaction did not commit."""
        self._scheduler.remove(job_id)

    def workers(self) -> list[WorkerInfo]:
        """The GPU workers serving the queue now."""
        return self._executor.workers()

    def unreachable_since(self) -> float | None:
        """Since when the workers cannot be reached (Redis away); None while they can."""
        return self._executor.unreachable_since()

    def describe_workers(self) -> str:
        return self._executor.describe()

    def watch(self, watcher: Watcher) -> None:
        """Tell `watcher` of every start and end from now on."""
        self._watchers.append(watcher)

    async def cancel(self, job: Job) -> Job:
        """Cancel a queued job now, or ask the worker to stop a running one. Returns the
        job as it stands (cancelled, or still running until its worker stops)."""
        if self._scheduler.remove(job.id) is not None:
            return await self._end(job, JobStatus.CANCELLED)
        if job.id in self._claiming:  # stopped as soon as the executor has it
            self._cancelling.add(job.id)
            return job
        if job.id in self._running:
            self._cancelling.add(job.id)
            await self._executor.cancel(job.id)
            return self._running[job.id].job
        current = await self.store.get_job(job.id)
        assert current is not None
        raise UserError("not_cancellable", job=job.id, status=current.status.value)

    async def abandon(self, job: Job) -> Job:
        """The process ends now with `job` unfinished (Ctrl-C in the terminal), and the
        GPU work of this process ends with it: the job is cancelled at once, its credits
        returned, whether it waits, is being claimed or runs. Whatever its worker still
        reports about it is ignored."""
        while job.id in self._claiming:  # a store transaction away from running
            await asyncio.sleep(0.01)
        if self._scheduler.remove(job.id) is None:
            current = await self.store.get_job(job.id)
            if current is None or not current.status.active:
                return current or job
            if job.id in self._running:
                await self._executor.cancel(job.id)
            self._running.pop(job.id, None)
            self._abandoned.add(job.id)
        return await self._end(job, JobStatus.CANCELLED)

    async def set_paused(self, paused: bool) -> None:
        await self.store.set_flag(PAUSED_FLAG, "1" if paused else "0")
        self.paused = paused
        self._wake.set()

    def set_privileged(self, user_id: int, privileged: bool) -> None:
        self._scheduler.set_privileged(user_id, privileged)

    async def delivered(self, job_id: str) -> None:
        """The platform confirmed the video: the job is over, its credits kept."""
        job = await self.store.get_job(job_id)
        if job is not None and job.status is JobStatus.DONE:
            await self.store.update_job(job_id, status=JobStatus.DELIVERED,
                                        delivered_at=self.clock())
            log.info("job %s user %s: delivered", job_id, job.user_id)

    async def undeliverable(self, job_id: str, reason: str) -> None:
        """The platform will not take the video (too big, the chat is gone): the job failed
        and its credits go back. The adapter told the person where it could."""
        job = await self.store.get_job(job_id)
        if job is not None and job.status is JobStatus.DONE:
            log.warning("job %s user %s: could not be delivered (%s)", job_id, job.user_id,
                        reason)
            await self._end(job, JobStatus.FAILED, Note(reason), announce=False)

    # The GPU loop

    async def _dispatch(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            while (not self._stopping and not self.paused and len(self._scheduler)
                   and self._executor.free_slots() > 0):
                try:
                    if not await self._claim():
                        break  # no free worker has the model of any queued job
                except Exception:  # e.g. the disk is full: try again at the next wake-up
                    log.exception("claiming the next job failed")
                    break

    def _batch_limit(self, entry: Entry) -> int:
        return min(self.max_batch, card(entry.model).max_batch)

    async def _claim(self) -> bool:
        now = self.clock()
        entries = self._scheduler.pop_batch(self._batch_limit, served=now,
                                           runnable=self._executor.can_run,
                                           prefer=self._executor.warm_model())
        if not entries:
            return False
        self._claiming = {entry.job_id: entry.user_id for entry in entries}
        try:
            started = await self.store.start_jobs([e.job_id for e in entries], now)
            claimed = [_Running(job, owner.role.privileged, owner.last_served_at)
                       for job, owner in started]
            for item in claimed:
                self._running[item.job.id] = item
                for watcher in self._watchers:
                    watcher.started(item.job)
                log.info("job %s user %s: started (attempt %d, batch of %d)", item.job.id,
                         item.job.user_id, item.job.attempts, len(claimed))
            try:
                await self._executor.submit([await self._spec(job, owner.role)
                                             for job, owner in started])
            except Exception:  # e.g. Redis went away: back in line, their turn and retry kept
                for item in claimed:
                    del self._running[item.job.id]
                    if item.job.id in self._cancelling:
                        self._cancelling.discard(item.job.id)
                        await self._end(item.job, JobStatus.CANCELLED)
                    else:
                        await self._requeue(item, count_attempt=False, wake=False)
                raise
        finally:
            self._claiming = {}
        for item in claimed:  # cancelled while it was being claimed
            if item.job.id in self._cancelling:
                await self._executor.cancel(item.job.id)
        return True

    async def _spec(self, job: Job, owner: Role) -> RenderSpec:
        photo = None if job.extends is not None else job.input_path  # see RenderSpec
        return RenderSpec(job_id=job.id, params=job.params, photo=photo,
                          output=self.outputs.video_path(job), max_bytes=job.chat.upload_limit,
                          headroom=self.marking.reserve(job),  # the signature, added after
                          extends=await self._continued(job), label=self.marking.label,
                          previews=self.previews,
                          moderation=self.moderation.video_thresholds(owner))

    async def _continued(self, job: Job) -> Path | None:
        """The video an extension continues, if it is still there."""
        if job.extends is None:
            return None
        previous = await self.store.get_job(job.extends)
        return previous.output_path if previous else None

    async def _consume(self) -> None:
        while True:
            event = await self._executor.next_event()
            if event is None:  # a slot is free, or the workers came or went
                self._wake.set()
                try:
                    await self._note_reachability()
                except Exception:  # the database is busy: noted at the next word
                    log.exception("noting whether the workers can be reached failed")
                continue
            try:
                await self._on(event)
            except Exception:  # the loop must outlive any one event
                log.exception("job %s: handling the %s event failed", event.job_id, event.kind)

    async def _on(self, event: WorkEvent) -> None:
        running = self._running.get(event.job_id)
        if running is None and event.job_id in self._abandoned:
            return
        if running is None:
            log.warning("job %s: %s event for a job not running here", event.job_id,
                        event.kind)
            return
        job = running.job
        if event.kind is WorkKind.STARTED:
            self._emit(EventKind.STARTED, job)
        elif event.kind is WorkKind.PROGRESS:
            running.fraction = event.step / max(1, event.total)
            self._emit(EventKind.PROGRESS, job, step=event.step, total_steps=event.total,
                       preview=event.preview)
        elif event.kind is WorkKind.ENCODING:
            if job.id not in self._cancelling:
                self._emit(EventKind.ENCODING, job)
        else:
            try:
                await self._ended(running, event, cancelled=job.id in self._cancelling)
            finally:  # only now: `stop` waits for this to be settled
                del self._running[job.id]
                self._cancelling.discard(job.id)

    async def _ended(self, running: _Running, event: WorkEvent, cancelled: bool) -> None:
        job = running.job
        if event.kind is WorkKind.DONE and event.video is not None:
            if cancelled:  # pressed during the last step or the encoding
                self.outputs.discard_video(event.video.path)
                await self._end(job, JobStatus.CANCELLED)
            else:
                await self._done(job, event)
        elif event.kind is WorkKind.FAILED:
            log.warning("job %s user %s: failed: %s", job.id, job.user_id, event.detail)
            if event.verdict is not None and event.verdict.refused:
                try:  # recorded first; the refund below must happen whatever befalls this
                    await self.moderation.video_refused(job, event.verdict)
                except Exception:
                    log.exception("job %s: recording its moderation refusal failed", job.id)
            await self._end(job, JobStatus.FAILED,
                            Note(event.reason or "internal_error", dict(event.reason_params)))
        elif cancelled:
            await self._end(job, JobStatus.CANCELLED)
        elif event.kind is WorkKind.STOPPED:  # shutdown, or a batch-mate's cancel
            await self._requeue(running, count_attempt=False)
        elif job.attempts < MAX_ATTEMPTS:  # LOST: the worker died under it
            log.warning("job %s user %s: its worker was lost (%s); trying again", job.id,
                        job.user_id, event.detail)
            await self._requeue(running, count_attempt=True, note=Note("worker_lost"))
        else:
            log.error("job %s user %s: its worker was lost twice; giving up", job.id,
                      job.user_id)
            await self._end(job, JobStatus.FAILED, Note("worker_lost_twice"))

    async def _done(self, job: Job, event: WorkEvent) -> None:
        video = event.video
        assert video is not None and video.params is not None, "a worker's video says what made it"
        params = video.params
        parent = await self._continued(job)
        try:  # the final file, as the platform gets it: marked as made by AI
            video = await asyncio.to_thread(self.marking.sign, video, job,
                                            parent if parent and parent.is_file() else None)
        except Exception:  # a video goes out signed or not at all
            log.exception("job %s user %s: signing its video failed", job.id, job.user_id)
            self.outputs.discard_video(video.path)
            await self._end(job, JobStatus.FAILED, Note("sign_failed"))
            return
        result = await asyncio.to_thread(self.outputs.record, job, video)
        note = Note("ran_lower", {"asked": video.lowered_from, "ran": params.resolution}) \
            if video.lowered_from else job.note
        job = await self.store.update_job(job.id, status=JobStatus.DONE,
                                          finished_at=self.clock(), output_path=video.path,
                                          params=params, note=note)
        self._seconds_per_cost = await self.store.recent_run_seconds_per_cost()
        for watcher in self._watchers:
            watcher.ended(job)
        log.info("job %s user %s: done in %.1f s -> %s", job.id, job.user_id,
                 job.run_seconds or 0, video.path)
        self._emit(EventKind.DONE, job, result=result)

    async def _requeue(self, running: _Running, count_attempt: bool, note: Note | None = None,
                       wake: bool = True) -> None:
        """Back in line: a job stopped unfinished keeps its owner's turn (their last-served
        time goes back to what it was) and, unless its worker was lost, its retry. Without
        `wake`, it waits for the executor's next word (a job it could not take now)."""
        job = running.job
        async with self.store.transaction():
            job = await self.store.update_job(
                job.id, status=JobStatus.QUEUED, started_at=None,
                attempts=job.attempts if count_attempt else job.attempts - 1,
                note=note or job.note)
            await self.store.update_user(job.user_id, last_served_at=running.served_before)
        self._scheduler.add(job_entry(job), privileged=running.privileged,
                           served=running.served_before)
        log.info("job %s: back in the queue", job.id)
        if not self._stopping:
            self.announce(job)
            if wake:
                self._wake.set()

    async def _end(self, job: Job, status: JobStatus, reason: Note | None = None, *,
                   announce: bool = True) -> Job:
        """End a job that did not succeed and give its credits back, in one transaction."""
        async with self.store.transaction():
            job = await self.store.update_job(job.id, status=status, finished_at=self.clock(),
                                              error=reason.key if reason else None)
            await self.quotas.refund(job, status.value)
        # Nobody will re-roll a video that was never made: its photo goes now, not at the
        # retention (a submit-and-cancel loop would fill the disk for free).
        self.outputs.discard_input(job.id)
        log.info("job %s user %s: %s%s", job.id, job.user_id, status,
                 f" ({reason.key})" if reason else "")
        for watcher in self._watchers:
            watcher.ended(job)
        if announce:
            kind = EventKind.CANCELLED if status is JobStatus.CANCELLED else EventKind.FAILED
            self._emit(kind, job, reason=reason)
        self._wake.set()
        return job

    async def _note_reachability(self) -> None:
        """Keep in the store since when the workers cannot be reached, for `i2vbot doctor`
        (another process) to say."""
        since = self._executor.unreachable_since()
        if since != self._unreachable_since:
            self._unreachable_since = since
            await self.store.set_flag(UNREACHABLE_FLAG, "" if since is None else f"{since:.0f}")

    # After a restart

    async def _recover(self) -> None:
        """Settle what a process that died left behind, before the queue is served. Jobs it
        left running are the executor's to reattach (`run`)."""
        for job in await self.store.ended_jobs_holding_credits():
            await self.quotas.refund(job, "settled after a restart")
        for job in await self.store.jobs_with_status(JobStatus.DONE):
            result = self.outputs.result_of(job)
            if result is None:
                log.error("job %s user %s: finished but its video is gone", job.id,
                          job.user_id)
                await self._end(job, JobStatus.FAILED, Note("video_lost"))
            else:
                log.info("job %s user %s: finished but not delivered; sending it again",
                         job.id, job.user_id)
                self._emit(EventKind.DONE, job, result=result)

    async def _reattach(self) -> None:
        """Jobs a previous process left running: still running (or finished) on a remote
        worker, they are watched again; else they were cut off and are tried once more."""
        running = await self.store.jobs_with_status(JobStatus.RUNNING)
        owners = {}
        for job in running:
            owner = await self.store.get_user(job.user_id)
            assert owner is not None
            owners[job.id] = owner
        kept = set(await self._executor.reattach([await self._spec(job, owners[job.id].role)
                                                  for job in running]))
        for job in running:
            owner = owners[job.id]
            if job.id in kept:
                self._running[job.id] = _Running(job, owner.role.privileged,
                                                 owner.last_served_at)
            elif job.attempts < MAX_ATTEMPTS:
                log.warning("job %s user %s: cut off by a restart, trying again", job.id,
                            job.user_id)
                job = await self.store.update_job(job.id, status=JobStatus.QUEUED,
                                                  started_at=None, note=Note("restarted"))
                self._scheduler.add(job_entry(job), privileged=owner.role.privileged,
                                   served=owner.last_served_at)
            else:
                log.error("job %s user %s: cut off by restarts twice, giving up", job.id,
                          job.user_id)
                await self._end(job, JobStatus.FAILED, Note("interrupted"))

    async def _announce_all(self) -> None:
        """Tell every waiting job its place again after a restart, paced, in the background."""
        with contextlib.suppress(asyncio.CancelledError):
            for job_id in self._recovered:
                if self._stopping:
                    return
                job = await self.store.get_job(job_id)
                if job is not None and job.status is JobStatus.QUEUED:
                    self.announce(job)
                await asyncio.sleep(1 / ANNOUNCE_PER_SECOND)

    # Events

    def _emit(self, kind: EventKind, job: Job, **fields: Any) -> None:
        self.events.publish(JobEvent(kind, job, language=language(job.language), **fields))


def queue_entry(job_id: str, user_id: int, created_at: float, cost: int,
                params: GenParams) -> Entry:
    """A job as the scheduler sees it."""
    return Entry(job_id, user_id, created_at, cost, batch_key(params), params.model)


def job_entry(job: Job) -> Entry:
    return queue_entry(job.id, job.user_id, job.created_at, job.cost, job.params)
