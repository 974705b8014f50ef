"""Extend, loop and smooth through the whole core: credits, limits, the frames and the MP4."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adapters.app import App
from bot.errors import UserError
from bot.models import EventKind
from bot.views import result_caption
from engine.effects import CROSSFADE_FRAMES
from engine.video import read_video
from tests.bot.conftest import END, FAST, Recorder, make_settings, request
from tests.fake_executor import FakeExecutor


async def made(app, recorder, job):
    done = await recorder.wait_for(job.id, END)
    assert done.kind is EventKind.DONE, done.reason
    await app.core.delivered(job.id)
    return done


async def test_extending_twice_joins_the_videos_charges_each_and_stops_at_the_limit(tmp_path):
    recorder = Recorder()
    app = await App.build(make_settings(tmp_path / "data", I2V_MAX_EXTENSIONS=2),
                          executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    ann = request().person
    try:
        first = await app.core.submit(request(caption=f"a boat sailing {FAST} --seed 1"))
        one = await made(app, recorder, first)
        second = await app.core.extend(ann, first.id, "the boat turning left")
        two = await made(app, recorder, second)
        third = await app.core.submit(request(caption=f"--extend {second.id}"))  # the flag
        three = await made(app, recorder, third)

        frames, fps = read_video(three.result.path)
        assert one.result.frames == 8 and two.result.frames == 8 + 7
        assert len(frames) == three.result.frames == 8 + 7 + 7 and fps == 8
        first_frames, _ = read_video(one.result.path)
        # The same start, re-encoded twice (H.264 is not lossless).
        assert np.abs(frames[:8].astype(int) - first_frames).mean() < 6
        for seam in (7, 14):  # no frame shown twice where a clip was joined on
            assert np.abs(frames[seam].astype(int) - frames[seam + 1]).mean() > 1
        assert second.params.prompt == "the boat turning left"
        assert third.params.prompt == "the boat turning left"  # the flag alone: same prompt
        assert (second.extension, third.extension, third.extends) == (1, 2, second.id)
        assert (second.params.width, second.params.steps) == (first.params.width, 10)
        for job in (first, second, third):  # each extension costs like a new video
            assert await app.store.job_ledger_sum(job.id) == -job.cost
        with pytest.raises(UserError, match="extended 2 times already"):
            await app.core.extend(ann, third.id)
        with pytest.raises(UserError, match="No job"):
            await app.core.extend(request("bob").person, first.id)  # not theirs
    finally:
        await app.close()


async def test_a_video_not_finished_cannot_be_extended(app, recorder):
    await app.lifecycle.set_paused(True)
    job = await app.core.submit(request())
    with pytest.raises(UserError, match="has no finished video to continue"):
        await app.core.extend(request().person, job.id)


@pytest.mark.parametrize("mode", ["pingpong", "crossfade"])
async def test_loop_closes_the_video_on_itself(tmp_path, mode):
    recorder = Recorder()
    app = await App.build(make_settings(tmp_path / "data", I2V_LOOP_MODE=mode),
                          executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    try:
        plain = await made(app, recorder, await app.core.submit(
            request(caption=f"waves {FAST} --seed 5")))
        looped = await made(app, recorder, await app.core.submit(
            request(caption=f"waves {FAST} --seed 5 --loop")))
    finally:
        await app.close()
    frames, _ = read_video(looped.result.path)
    original, _ = read_video(plain.result.path)
    if mode == "pingpong":
        assert len(frames) == 15
        assert np.abs(frames[0].astype(int) - frames[-1]).mean() < 2  # the end is the start
    else:
        assert len(frames) == 8 - 2  # a 3-frame blend at most for 8 frames
        assert np.abs(frames[-1].astype(int) - original[5]).mean() < 3
    assert looped.job.params.loop == mode
    record = json.loads(looped.result.params_path.read_text())
    assert record["loop"] == mode and "🔁 loops" in result_caption(looped.job, looped.result)
    assert looped.job.cost == plain.job.cost  # no extra GPU work, no extra credits
    assert CROSSFADE_FRAMES >= 3


async def test_smooth_triples_the_frame_rate_within_the_upload_limit(app, recorder):
    job = await app.core.submit(request(caption=f"waves {FAST} --smooth"))
    done = await made(app, recorder, job)
    frames, fps = read_video(done.result.path)
    assert (len(frames), fps) == (24, 24) and done.result.fps == 24
    assert done.job.params.smooth_fps == 24
    assert "smoothed to 24 fps" in result_caption(done.job, done.result)
