"""Choosing the video model: which are offered, how a caption or the Discord option picks
one, what each costs, and a queue that waits for the right worker and avoids switching."""

from __future__ import annotations

import pytest

from adapters.app import App
from bot.errors import UserError
from bot.jobs.scheduler import Entry, FairQueue
from bot.models import EventKind
from bot.quotas import preset_costs
from bot.views import presets_reply, result_caption
from tests.bot.conftest import END, Recorder, make_settings, request

WAN = "--model wan --size 160x128 --frames 17 --steps 10"
I2V = "--size 128x128 --frames 8 --steps 10"


@pytest.fixture
async def both(tmp_path, gpu, recorder):
    settings = make_settings(tmp_path / "data", I2V_MODELS="i2vgen-xl,wan")
    app = await App.build(settings, executor=gpu)
    app.events.register("cli", recorder)
    await app.start()
    yield app
    await app.close()


async def test_a_model_that_is_not_offered_is_refused_with_the_choices(app):
    with pytest.raises(UserError) as err:
        await app.core.submit(request(caption=f"waves {WAN}"))
    assert str(err.value) == "The model “wan” is not offered here. Choose one of: i2vgen-xl."
    with pytest.raises(UserError, match="--model needs one of i2vgen-xl, turbo, wan"):
        await app.core.submit(request(caption="waves --model sora"))


async def test_the_caption_or_the_platform_picks_the_model_and_the_result_names_it(
        both: App, recorder: Recorder):
    wan = await both.core.submit(request(caption=f"waves {WAN}"))
    assert wan.params.model == "wan" and wan.params.fps == 24
    # Discord's option arrives as an override; it wins over the caption's default.
    chosen = await both.core.submit(request(caption="waves --size 160x128 --frames 21 "
                                            "--steps 10", overrides={"model": "wan"}))
    assert chosen.params.model == "wan"
    plain = await both.core.submit(request(caption=f"waves {I2V}"))
    assert plain.params.model == "i2vgen-xl"  # the first offered is the default
    done = await recorder.wait_for(wan.id, END)
    assert done.kind is EventKind.DONE
    assert "Wan 2.2 TI2V-5B · preset standard" in result_caption(done.job, done.result)
    # Another seed keeps the model; so does the better-quality button.
    again = await both.core.again(request().person, wan.id, better=False)
    assert again.params.model == "wan"


async def test_each_model_has_its_own_presets_and_costs(both: App):
    wan = await both.core.submit(request(caption="waves --model wan"))
    assert wan.cost == preset_costs("wan")["standard"]
    assert wan.params.resolution == "480p" and wan.params.frames == 81
    i2v = await both.core.submit(request(caption="waves"))
    assert i2v.cost == 100
    text = presets_reply("en", both.core.policy.models)
    assert "I2VGen-XL (the default; --model i2vgen-xl):" in text
    assert "Wan 2.2 TI2V-5B (--model wan):" in text
    assert "• standard: 480p, 81 frames @ 24 fps, 30 steps, guidance 5.0 · 3.43 credits" in text
    with pytest.raises(UserError, match="This model makes 17-121 of the form 4k"):
        await both.core.submit(request(caption="waves --model wan --frames 20"))
    with pytest.raises(UserError, match="Resolution must be one of 480p, 720p"):
        await both.core.submit(request(caption="waves --model wan --res 512p"))


async def test_a_job_waits_for_a_worker_with_its_model(both: App, gpu, recorder):
    gpu.offer("i2vgen-xl")  # no worker has Wan
    wan = await both.core.submit(request("u1", caption=f"waves {WAN}"))
    i2v = await both.core.submit(request("u2", caption=f"waves {I2V}"))
    assert (await recorder.wait_for(i2v.id, END)).kind is EventKind.DONE
    assert EventKind.STARTED not in recorder.kinds(wan.id)
    gpu.offer("i2vgen-xl", "wan")  # a worker with Wan joins
    assert (await recorder.wait_for(wan.id, END)).kind is EventKind.DONE


def test_the_loaded_model_goes_first_within_the_round_and_nobody_loses_a_turn():
    queue = FairQueue()
    for user, (job, model) in enumerate([("a1", "i2v"), ("b1", "wan"), ("c1", "i2v")]):
        queue.add(Entry(job, user, float(user), model=model), privileged=False, served=None)
    queue.add(Entry("b2", 1, 5.0, model="wan"), privileged=False, served=None)
    order = []
    warm = "wan"
    while (entry := queue.pop(served=len(order) + 10.0, prefer=warm)) is not None:
        order.append(entry.job_id)
        warm = entry.model
    # b1 runs first (Wan is loaded), then a1 and c1 in their order: b's second job waits
    # for the next round although Wan is loaded, so one switch back and one switch there.
    assert order == ["b1", "a1", "c1", "b2"]


def test_a_job_no_free_worker_can_run_keeps_its_place():
    queue = FairQueue()
    queue.add(Entry("w", 1, 0.0, model="wan"), privileged=False, served=None)
    queue.add(Entry("i", 2, 1.0, model="i2v"), privileged=False, served=None)
    assert queue.pop(served=5.0, runnable=lambda model: model == "i2v").job_id == "i"
    assert queue.pop(served=6.0, runnable=lambda model: model == "i2v") is None
    assert queue.position("w") == 1
