"""Live previews through Redis: a worker's preview goes under a short-lived key of its job
(the newest replacing the last), the bot fetches the newest when the job's progress names
it, and nothing stays once the job is over. The real SAQ worker and executor on a real Redis,
in this process; the renderer is scripted (skipped without Redis, as the scale-out tests)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bot.executors.remote import RemoteExecutor
from bot.executors.saq_worker import worker
from bot.executors.scratch import Scratch
from bot.executors.wire import PREVIEW_TTL_S, preview_key, spec_from_wire, spec_to_wire
from engine.effects import finish
from engine.spec.params import GenParams
from engine.spec.work import PreviewPlan, RenderSpec, WorkEvent, WorkKind
from engine.video import encode_mp4
from tests.fake_executor import preview_jpeg, solid_frames
from tests.images import make_photo
from tests.services import redis_url

PLAN = PreviewPlan(every=0.25, min_gap_s=0)
PARAMS = GenParams(prompt="waves", width=128, height=128, frames=8, fps=8, steps=10, seed=3)


class Scripted:
    """A worker's GPU that sends the previews its spec plans (steps 3, 6 and 9), waiting
    for the test after step 6."""

    models = ("i2vgen-xl",)
    loaded_model = "i2vgen-xl"

    def __init__(self) -> None:
        self.go_on = threading.Event()

    def load(self) -> None:
        pass

    def describe(self) -> str:
        return "scripted renderer"

    def run(self, specs: Sequence[RenderSpec], emit: Callable[[WorkEvent], None],
            should_stop: Callable[[], bool]) -> None:
        (spec,) = specs
        emit(WorkEvent(WorkKind.STARTED, spec.job_id))
        for step in range(1, 11):
            emit(WorkEvent(WorkKind.PROGRESS, spec.job_id, step=step, total=10))
            if step in spec.previews.planned(10):
                emit(WorkEvent(WorkKind.PROGRESS, spec.job_id, step=step, total=10,
                               preview=preview_jpeg(spec, step)))
            if step == 6:
                self.go_on.wait(60)
        frames, fps = finish(solid_frames(8, 128, 128, 3), spec.params, None)
        video = encode_mp4(frames, fps, spec.output)
        emit(WorkEvent(WorkKind.DONE, spec.job_id, video=replace(video, params=spec.params)))


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Wait until `check()` holds: a condition, never a guess of how long things take."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.02)


async def test_previews_travel_through_redis_and_nothing_stays(tmp_path: Path) -> None:
    url = redis_url()
    renderer = Scripted()
    scratch = Scratch(tmp_path / "scratch")
    scratch.open()
    saq = worker(url, lambda: renderer, renderer.models, heartbeat_s=5, scratch=scratch)
    serving = asyncio.create_task(saq.start())
    bot = RemoteExecutor(url, heartbeat_s=5, timeout_s=120)
    try:
        await bot.start()
        while not bot.free_slots():  # None: the list of live workers changed
            assert await asyncio.wait_for(bot.next_event(), 30) is None
        photo = tmp_path / "photo.jpg"
        photo.write_bytes(make_photo(160, 128))
        spec = RenderSpec("job1", PARAMS, photo, tmp_path / "out" / "job1.mp4", previews=PLAN)
        await bot.submit([spec])
        shown: list[WorkEvent] = []
        while not shown or shown[-1].step < 6:
            event = await asyncio.wait_for(bot.next_event(), 30)
            if event is not None and event.preview is not None:
                shown.append(event)
        # Each preview the bot got is the worker's of that step; the newest is step 6's,
        # and the key holds it (it replaced step 3's), for minutes at most.
        assert {e.step for e in shown} <= {3, 6}
        for event in shown:
            assert event.kind is WorkKind.PROGRESS and event.total == 10
            assert event.preview == preview_jpeg(spec, event.step)
        redis = bot.queue.redis
        assert await redis.get(preview_key("job1")) == preview_jpeg(spec, 6)
        assert 0 < await redis.ttl(preview_key("job1")) <= PREVIEW_TTL_S

        renderer.go_on.set()
        later = []
        while (event := await asyncio.wait_for(bot.next_event(), 30)) is None \
                or not event.kind.final:
            if event is not None and event.preview is not None:
                later.append(event.step)
        assert later in ([], [9])  # step 9's, unless the video overtook it
        assert event.kind is WorkKind.DONE and spec.output.exists()

        async def forgotten() -> bool:
            return not await redis.exists(preview_key("job1"))
        await until(forgotten)
    finally:
        renderer.go_on.set()
        await bot.stop()
        saq.event.set()
        await serving
        scratch.close()


def test_a_spec_from_a_bot_without_previews_runs_without_them(tmp_path: Path) -> None:
    spec = RenderSpec("job2", PARAMS, None, tmp_path / "job2.mp4", previews=PLAN)
    wire = spec_to_wire(spec)
    assert spec_from_wire(wire, tmp_path).previews == PLAN
    del wire["previews"]  # what an older bot sends
    assert not spec_from_wire(wire, tmp_path).previews.on
