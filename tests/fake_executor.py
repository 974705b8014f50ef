"""A scripted stand-in for the GPU: the executor port without a model.

Jobs run instantly through every event a real worker sends (started, one progress event per
denoising step, encoding, done with a real MP4 made by ffmpeg), unless a test scripts
otherwise: hold a job at a step until released, fail it with a reason, lose its worker.
With `previews` on it also sends a JPEG preview at each step the spec's plan names (the
steps alone: no gap in seconds, so that nothing depends on how fast the machine is).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from bot.executors.base import WorkerInfo
from engine.effects import encode
from engine.spec.errors import Rejected
from engine.spec.moderation import REFUSED_VIDEO
from engine.spec.work import RenderSpec, WorkEvent, WorkKind


@dataclass
class Script:
    """What happens to jobs whose prompt contains `word`."""

    word: str
    fail: str | None = None  # a catalogue code
    lose: int = 0  # the first N attempts lose their worker mid-run
    hold_at: int | None = None  # stop after this step until released
    pause_at: tuple[int, ...] = ()  # stop after each of these steps until released again
    nsfw: float | None = None  # the video's "nsfw" score, judged as the spec asks (if it does)


@dataclass
class _Batch:
    specs: list[RenderSpec]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class FakeExecutor:
    keeps_running = False

    def __init__(self, slots: int = 1, previews: bool = False) -> None:
        self.slots = slots
        self.previews = previews  # send the previews the specs plan
        self.models: tuple[str, ...] = ("i2vgen-xl", "turbo", "wan")  # what its workers offer
        self.warm: str | None = None  # the model it says is loaded
        self.started = False
        self.fail_start: Exception | None = None
        self.fail_submit: Exception | None = None  # raised by the next submit, once
        self.away_since: float | None = None  # the workers cannot be reached since then
        self.submitted: list[list[str]] = []  # job ids of each batch, in order
        self.specs: dict[str, RenderSpec] = {}  # each job's spec as the core sent it
        self.scripts: list[Script] = []
        self._holds: dict[str, int] = {}
        self._encode_holds: set[str] = set()
        self._released: dict[str, asyncio.Event] = {}
        self._reached: dict[tuple[str, int], asyncio.Event] = {}
        self._losses: dict[str, int] = {}
        self._batches: list[_Batch] = []
        self._events: asyncio.Queue[WorkEvent | None] = asyncio.Queue()

    # Scripting

    def script(self, word: str, **behaviour: object) -> Script:
        script = Script(word, **behaviour)  # type: ignore[arg-type]
        self.scripts.append(script)
        return script

    def offer(self, *models: str) -> None:
        """The models its workers offer from now on (as when a worker joins or leaves)."""
        self.models = models
        self._events.put_nowait(None)  # the core looks at the queue again

    def go_away(self, since: float) -> None:
        """The workers cannot be reached from now on (as when Redis stops answering)."""
        self.away_since = since
        self._events.put_nowait(None)

    def come_back(self) -> None:
        self.away_since = None
        self._events.put_nowait(None)

    def hold(self, job_id: str, step: int = 1) -> None:
        """Stop `job_id` after `step` until `release(job_id)`."""
        self._holds[job_id] = step

    def hold_encoding(self, job_id: str) -> None:
        """Keep `job_id` in its encoding (after its last step) until `release(job_id)`."""
        self._encode_holds.add(job_id)

    def release(self, job_id: str) -> None:
        self._released.setdefault(job_id, asyncio.Event()).set()

    async def reached(self, job_id: str, step: int = 1, timeout: float = 10) -> None:
        """Wait until `job_id` has finished denoising step `step`."""
        event = self._reached.setdefault((job_id, step), asyncio.Event())
        await asyncio.wait_for(event.wait(), timeout)

    @property
    def running(self) -> list[str]:
        return [s.job_id for b in self._batches if b.task and not b.task.done() for s in b.specs]

    # The executor port

    def free_slots(self) -> int:
        if self.away_since is not None:
            return 0
        return self.slots - sum(1 for b in self._batches if b.task and not b.task.done())

    def unreachable_since(self) -> float | None:
        return self.away_since

    def can_run(self, model: str) -> bool:
        return self.free_slots() > 0 and model in self.models

    def warm_model(self) -> str | None:
        return self.warm

    def describe(self) -> str:
        return f"fake executor ({self.slots} slots)"

    async def start(self) -> None:
        if self.fail_start is not None:
            raise self.fail_start
        self.started = True

    async def submit(self, specs: Sequence[RenderSpec]) -> None:
        assert self.free_slots() > 0, "submitted to a busy executor"
        if self.fail_submit is not None:
            failure, self.fail_submit = self.fail_submit, None
            raise failure
        batch = _Batch(list(specs))
        self.submitted.append([s.job_id for s in specs])
        self.specs.update((s.job_id, s) for s in specs)
        batch.task = asyncio.create_task(self._run(batch))
        self._batches.append(batch)

    async def cancel(self, job_id: str) -> None:
        for batch in self._batches:
            if any(s.job_id == job_id for s in batch.specs):
                batch.stop.set()  # a batch stops as a whole, held jobs included
                for spec in batch.specs:
                    self.release(spec.job_id)

    async def next_event(self) -> WorkEvent | None:
        return await self._events.get()

    async def reattach(self, specs: Sequence[RenderSpec]) -> list[str]:
        return []

    def workers(self) -> list[WorkerInfo]:
        return [WorkerInfo("fake", "no GPU", ("fake",), busy=bool(self.running),
                           jobs_done=0, jobs_failed=0)]

    async def stop(self) -> None:
        for batch in self._batches:
            batch.stop.set()
            for spec in batch.specs:
                self.release(spec.job_id)
        await asyncio.gather(*(b.task for b in self._batches if b.task),
                             return_exceptions=True)

    # One batch

    def _scripts(self, spec: RenderSpec) -> list[Script]:
        return [s for s in self.scripts if s.word in spec.params.prompt]

    async def _run(self, batch: _Batch) -> None:
        try:
            await self._script(batch)
        except Exception as exc:  # a bug in the fake must fail its jobs, not hang the test
            for spec in batch.specs:
                self._events.put_nowait(WorkEvent(WorkKind.FAILED, spec.job_id,
                                                  reason="internal_error", detail=repr(exc)))
            raise
        finally:
            self._events.put_nowait(None)

    async def _script(self, batch: _Batch) -> None:
        emit = self._events.put_nowait
        for spec in batch.specs:
            emit(WorkEvent(WorkKind.STARTED, spec.job_id))
        steps = batch.specs[0].params.steps
        for step in range(1, steps + 1):
            await asyncio.sleep(0)
            if batch.stop.is_set():
                for spec in batch.specs:
                    emit(WorkEvent(WorkKind.STOPPED, spec.job_id))
                return
            for spec in batch.specs:
                emit(WorkEvent(WorkKind.PROGRESS, spec.job_id, step=step, total=steps))
                if self.previews and step in spec.previews.planned(steps):
                    emit(WorkEvent(WorkKind.PROGRESS, spec.job_id, step=step, total=steps,
                                   preview=preview_jpeg(spec, step)))
                self._reached.setdefault((spec.job_id, step), asyncio.Event()).set()
            if await self._lost(batch, step):
                return
            await self._wait_if_held(batch, step)
        if batch.stop.is_set():
            for spec in batch.specs:
                emit(WorkEvent(WorkKind.STOPPED, spec.job_id))
            return
        for spec in batch.specs:
            emit(WorkEvent(WorkKind.ENCODING, spec.job_id))
            if spec.job_id in self._encode_holds:  # a stop does not interrupt ffmpeg
                await self._released.setdefault(spec.job_id, asyncio.Event()).wait()
            emit(await asyncio.to_thread(self._finish, spec))

    async def _lost(self, batch: _Batch, step: int) -> bool:
        if step != 1:
            return False
        lost = False
        for spec in batch.specs:
            for script in self._scripts(spec):
                done = self._losses.get(spec.job_id, 0)
                if done < script.lose:
                    self._losses[spec.job_id] = done + 1
                    lost = True
        if lost:
            for spec in batch.specs:
                self._events.put_nowait(WorkEvent(WorkKind.LOST, spec.job_id,
                                                  detail="the fake worker vanished"))
        return lost

    async def _wait_if_held(self, batch: _Batch, step: int) -> None:
        for spec in batch.specs:
            held_at = self._holds.get(spec.job_id)
            for script in self._scripts(spec):
                held_at = script.hold_at if held_at is None else held_at
            if held_at == step:
                released = self._released.setdefault(spec.job_id, asyncio.Event())
                await released.wait()
            if any(step in script.pause_at for script in self._scripts(spec)):
                released = self._released.setdefault(spec.job_id, asyncio.Event())
                await released.wait()
                if not batch.stop.is_set():
                    released.clear()  # the next pause waits for the next release

    def _finish(self, spec: RenderSpec) -> WorkEvent:
        for script in self._scripts(spec):
            if script.fail:
                return WorkEvent(WorkKind.FAILED, spec.job_id, reason=script.fail,
                                 detail=f"scripted failure {script.fail}")
            if script.nsfw is not None and spec.moderation is not None:
                verdict = spec.moderation.judge("video", {"nsfw": script.nsfw,
                                                          "normal": 1 - script.nsfw})
                if verdict.refused:  # as engine/worker.py reports it
                    return WorkEvent(WorkKind.FAILED, spec.job_id, reason=REFUSED_VIDEO,
                                     verdict=verdict, detail="scripted moderation refusal")
        params = spec.params
        width, height = params.width or 128, params.height or 128
        frames = solid_frames(params.frames, width, height, params.seed or 0)
        try:  # smoothed, labelled, joined, looped and tagged as a real worker does
            video = encode(spec, frames, params)
        except Rejected as exc:  # as the real worker reports it
            return WorkEvent(WorkKind.FAILED, spec.job_id, reason=exc.code,
                             reason_params=exc.params, detail=str(exc))
        return WorkEvent(WorkKind.DONE, spec.job_id, video=replace(video, params=params))


def solid_frames(count: int, width: int, height: int, seed: int) -> np.ndarray:
    """Frames whose colour follows the seed: same seed, same video."""
    rng = np.random.default_rng(seed)
    colour = rng.integers(40, 215, size=3, dtype=np.uint8)
    frames = np.broadcast_to(colour, (count, height, width, 3)).copy()
    frames[:, :, : width // 2] //= 2  # not uniform, so an encoder has something to do
    return frames


def preview_jpeg(spec: RenderSpec, step: int) -> bytes:
    """A JPEG of the job's frame, darker the earlier the step: each preview its own."""
    params = spec.params
    frame = solid_frames(1, params.width or 128, params.height or 128, params.seed or 0)[0]
    out = io.BytesIO()
    Image.fromarray(frame // (params.steps - step + 1)).save(out, "JPEG", quality=80)
    return out.getvalue()
