"""The original app's craft in Discord's /animate: the recipe, focus and eta options reach
the engine and are named under the video; a Chinese prompt reaches I2VGen-XL in English;
the coach's hint comes once, privately, for "walks" and not for "is walking"."""

from __future__ import annotations

from tests.adapters.discord_bot.conftest import animate_data, interaction, running_bot
from tests.adapters.discord_bot.fake_discord import APP_ID
from tests.adapters.discord_bot.helpers import EPHEMERAL, followup, send
from tests.bot.conftest import FAST, tiny_executor
from tests.engine.spy import Spy
from tests.images import make_photo


def photo(fake, width: int = 300, height: int = 200):
    return fake.add_attachment("cat.jpg", make_photo(width, height), "image/jpeg")


def posts(fake, payload) -> list:
    path = f"/webhooks/{APP_ID}/{payload['token']}"
    return [r for r in fake.requests if r.method == "POST" and r.path == path]


async def test_the_recipe_focus_and_eta_options_shape_the_job(bot, fake):
    commands = {c["name"]: c for c in fake.commands["global"]}
    options = {o["name"]: o for o in commands["animate"]["options"]}
    assert [c["value"] for c in options["recipe"]["choices"]] == ["walking", "waves",
                                                                   "turning"]
    assert options["focus"]["type"] == 5  # a boolean
    assert (options["eta"]["min_value"], options["eta"]["max_value"]) == (0.0, 1.0)

    payload = interaction(2, animate_data(photo(fake), "a man walking", recipe="walking",
                                          focus=True, eta=0.3, seed=4))
    await send(fake, payload)
    video = await followup(fake, payload, files=True)
    assert "640x384 · 16 frames @ 8 fps · 60 steps · guidance 9.0" in video.content
    assert "recipe walking · 🎯 subject in focus · eta 0.3" in video.content
    job = (await bot.app.store.user_jobs(1, 1))[0]
    assert (job.params.recipe, job.params.focus, job.params.eta) == ("walking", 1.5, 0.3)


async def test_the_coach_hints_privately_once_for_walks_and_not_for_is_walking(bot, fake):
    payload = interaction(2, animate_data(photo(fake), f"a man walks {FAST}"))
    await send(fake, payload)
    await followup(fake, payload, files=True)
    hints = [r for r in posts(fake, payload) if not r.files]
    assert len(hints) == 1 and hints[0].flags & EPHEMERAL
    assert "“walks” → “is walking”" in hints[0].content

    payload = interaction(2, animate_data(photo(fake), f"a man is walking {FAST}"),
                          user=1002)
    await send(fake, payload)
    await followup(fake, payload, files=True)
    assert [r for r in posts(fake, payload) if not r.files] == []


async def test_a_chinese_prompt_reaches_i2vgen_xl_in_english(tmp_path, fake, tiny_engine,
                                                             tiny_classifier, tiny_translator,
                                                             monkeypatch):
    spy = Spy(tiny_engine, monkeypatch)
    gpu = tiny_executor(tiny_engine, tiny_classifier, tiny_translator)
    async with running_bot(tmp_path, fake, gpu=gpu):
        payload = interaction(2, animate_data(photo(fake), f"海浪拍打着岸边 {FAST}"),
                              locale="zh-CN")
        await send(fake, payload)
        video = await followup(fake, payload, files=True)
    assert video.content.startswith("🎬 海浪拍打着岸边\n🌐 I2VGen-XL 读到的是：waves are "
                                    "crashing on the shore\n")
    assert spy.encoded[0] == "waves are crashing on the shore"
