"""The original app's tips as options, through the whole core on the scripted GPU: what
the worker is asked to do (--focus, --eta, --recipe) and what a re-roll keeps."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.models import EventKind, JobRequest
from tests.bot.conftest import END, FAST, make_settings, request
from tests.images import make_photo


async def spec_of(app, gpu, recorder, job):
    """The parameters the executor received for `job`, once it is done."""
    done = await recorder.wait_for(job.id, END)
    assert done.kind is EventKind.DONE, done.reason
    return done.job.params


async def test_focus_eta_and_a_recipe_are_what_the_worker_is_asked_to_do(app, gpu, recorder):
    caption = "a man walking --recipe walking --focus --eta 0.25 --seed 3"
    job = await app.core.submit(request(caption=caption, image=make_photo(300, 200)))
    params = await spec_of(app, gpu, recorder, job)
    assert (params.width, params.height, params.frames, params.fps, params.steps,
            params.guidance) == (640, 384, 16, 8, 60, 9.0)  # a 3:2 photo fits 5:3
    assert (params.recipe, params.focus, params.eta) == ("walking", 1.5, 0.25)
    upright = await app.core.submit(request(caption=caption, image=make_photo(200, 300)))
    assert (upright.params.width, upright.params.height) == (384, 576)  # shaped like it


async def test_the_operators_focus_strength_is_used(tmp_path, gpu, recorder):
    from adapters.app import App

    app = await App.build(make_settings(tmp_path / "data", I2V_FOCUS_BLUR=3), executor=gpu)
    app.events.register("cli", recorder)
    await app.start()
    try:
        job = await app.core.submit(request(caption=f"a cat turning --focus {FAST}"))
        assert job.params.focus == 3.0
    finally:
        await app.close()


async def test_a_recipe_alone_brings_its_tested_prompt(app):
    app.core.check_caption("--recipe waves")  # no prompt needed before the download
    job = await app.core.submit(request(caption="--recipe waves"))
    assert job.params.prompt == "Ocean waves are crashing on the shore, foam is bubbling"
    with pytest.raises(UserError, match="Add a caption describing the motion"):
        app.core.check_caption("--seed 3")


async def test_a_recipe_or_eta_for_wan_is_refused_with_the_reason(tmp_path, gpu):
    from adapters.app import App

    app = await App.build(make_settings(tmp_path / "data", I2V_MODELS="i2vgen-xl,wan"),
                          executor=gpu)
    try:
        with pytest.raises(UserError, match="Wan 2.2 TI2V-5B has no recipes"):
            await app.core.submit(request(caption="waves --model wan --recipe waves"))
        with pytest.raises(UserError, match="Wan 2.2 TI2V-5B samples without an eta"):
            await app.core.submit(request(caption="waves --model wan --eta 0.3"))
        with pytest.raises(UserError, match="the speed mode samples with DPM-Solver"):
            await app.core.submit(request(caption="waves --fast --eta 0.3"))
    finally:
        await app.close()


async def test_a_reroll_keeps_the_recipe_focus_and_eta_the_platform_gave(app, gpu, recorder):
    first = await app.core.submit(JobRequest(
        person=request().person, chat=request().chat, image=request().image,
        caption="a cat turning its head",
        overrides={"recipe": "turning", "focus": True, "eta": 0.2}))  # as the web form sends
    await recorder.wait_for(first.id, END)
    again = await app.core.again(request().person, first.id, better=False)
    assert (again.params.recipe, again.params.focus, again.params.eta) == ("turning", 1.5, 0.2)
    assert again.params.seed != first.params.seed
    with pytest.raises(UserError):  # a recipe is no preset to make better
        await app.core.again(request().person, first.id, better=True)
