"""What the core does against a person who tries to use it up: a cancelled or failed job's
photo goes at once, the photos kept for re-rolls stay within a budget, submissions are
rate-limited, the caption's flags are checked before any download, and nothing is taken
before the model can serve it."""

from __future__ import annotations

import types

import pytest

from adapters.app import App
from bot.errors import UserError
from bot.models import EventKind
from tests.bot.conftest import END, FAST, make_settings, request
from tests.fake_executor import FakeExecutor


def photos(app: App) -> set[str]:
    return {path.stem for path in app.outputs.inputs.iterdir()}


async def test_a_cancelled_or_failed_jobs_photo_goes_at_once_and_a_finished_one_stays(
        app, gpu, recorder):
    gpu.script("boom", fail="gpu_oom")
    await app.lifecycle.set_paused(True)
    waiting = await app.core.submit(request(caption=f"waves {FAST}"))
    assert waiting.id in photos(app)
    await app.core.cancel(request().person, waiting.id)
    assert waiting.id not in photos(app)  # not at the retention, 14 days later

    await app.lifecycle.set_paused(False)
    failed = await app.core.submit(request(caption=f"boom {FAST}"))
    done = await app.core.submit(request(caption=f"waves {FAST}"))
    assert (await recorder.wait_for(failed.id, END)).kind is EventKind.FAILED
    assert (await recorder.wait_for(done.id, END)).kind is EventKind.DONE
    assert photos(app) == {done.id}  # kept for its re-roll button


async def test_the_photos_kept_for_re_rolls_stay_within_the_budget(tmp_path, recorder):
    settings = make_settings(tmp_path / "data", I2V_STORED_PHOTOS_MIB=0)
    app = await App.build(settings, executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    try:
        first = await app.core.submit(request())
        await recorder.wait_for(first.id, END)
        await app.lifecycle.set_paused(True)
        second = await app.core.submit(request())
        assert photos(app) == {second.id}  # a live job's photo always stays
        with pytest.raises(UserError) as gone:
            await app.core.again(request().person, first.id, better=False)
        assert gone.value.key == "input_missing"
    finally:
        await app.close()


async def test_submissions_per_person_are_rate_limited_with_the_wait(tmp_path, monkeypatch):
    now = [1_000_000.0]
    clock = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr("limits.storage.memory.time", clock)  # the library's own clock
    monkeypatch.setattr("bot.rates.time", clock)
    settings = make_settings(tmp_path / "data", I2V_SUBMITS_PER_MINUTE=2,
                             I2V_ADMINS="cli:boss")
    app = await App.build(settings, executor=FakeExecutor())
    await app.lifecycle.set_paused(True)
    try:
        for _ in range(2):
            await app.core.submit(request("ann"))
        now[0] += 20
        with pytest.raises(UserError) as refused:
            await app.core.submit(request("ann"))
        assert refused.value.key == "too_many_submits"
        assert str(refused.value) == "You sent 2 videos within a minute: wait 40 s, then " \
            "send it again."
        await app.core.submit(request("bob"))  # someone else is not slowed
        for _ in range(3):
            await app.core.submit(request("boss"))  # nor an admin
        now[0] += 41
        await app.core.submit(request("ann"))
    finally:
        await app.close()


def test_a_bad_flag_or_option_is_refused_before_any_download(app):
    with pytest.raises(UserError) as frames:
        app.core.check_caption("waves --frames 999")
    assert frames.value.key == "out_of_range" and "frames" in str(frames.value)
    with pytest.raises(UserError) as steps:
        app.core.check_caption("waves", overrides={"steps": 5000})
    assert steps.value.key == "out_of_range"
    with pytest.raises(UserError) as preset:
        app.core.check_caption("waves", preset="ultra")
    assert preset.value.key == "bad_preset"
    app.core.check_caption("waves --frames 16 --seed 3")


async def test_nothing_is_accepted_while_the_model_loads(tmp_path):
    app = await App.build(make_settings(tmp_path / "data"), executor=FakeExecutor())
    try:
        await app.load()
        app.core.hold_jobs()  # what `serve` does until its model is ready
        with pytest.raises(UserError) as starting:
            await app.core.submit(request())
        assert starting.value.key == "starting"
        assert await app.store.count_jobs() == 0 and not photos(app)
        await app.start()
        await app.core.submit(request())
    finally:
        await app.close()
