"""The original app's craft in Telegram: a Chinese prompt reaches I2VGen-XL in English and
both are shown; --focus, --eta and --recipe change what the engine gets and are named under
the video; the coach's hint comes once, for "walks" and not for "is walking"."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.adapters.telegram_bot.conftest import FAST
from tests.engine.spy import Spy
from tests.engine.test_focus import detail, striped_ball_on_grain

COACH = "💡 Motion comes out smoother"


async def test_a_chinese_prompt_reaches_i2vgen_xl_in_english_with_focus_and_eta(
        engine_tg, tiny_engine, monkeypatch):
    spy = Spy(tiny_engine, monkeypatch)
    ann = engine_tg.person(20, lang="zh")
    sent = io.BytesIO()
    striped_ball_on_grain().save(sent, "JPEG", quality=95)
    # A video nearly as large as the photo: a JPEG is decoded at the scale its video needs,
    # and the pixels below are compared with the photo's own.
    await ann.photo(f"一只猫在慢慢地转头 --neg 模糊，变形 --focus --eta 0.3 {FAST} --size 448x320",
                    sent.getvalue(), size=(480, 320))
    caption = (await ann.wait_video()).fields["caption"]
    lines = caption.splitlines()
    assert lines[0] == "🎬 一只猫在慢慢地转头"
    assert lines[1] == "🌐 I2VGen-XL 读到的是：a cat is turning its head slowly"
    assert lines[2] == "🌐 反向提示词读作：blurry, distorted"
    assert "🎯 主体聚焦 · eta 0.3" in caption
    assert spy.encoded == ["a cat is turning its head slowly", "blurry, distorted"]
    assert spy.calls[0]["eta"] == 0.3
    (job,) = spy.jobs
    original = np.asarray(Image.open(sent))
    received = np.asarray(job.image)
    corner, ball = (slice(240, 320), slice(0, 200)), (slice(60, 180), slice(300, 420))
    assert job.params.focus == 1.5
    assert detail(received[corner]) < detail(original[corner]) / 20  # the grain, blurred
    assert np.array_equal(received[ball], original[ball])  # the subject, untouched
    stored = (await engine_tg.app.store.user_jobs(1, 1))[0].params
    assert stored.translated_prompt == "a cat is turning its head slowly"  # kept with the job


async def test_a_recipe_sets_the_size_length_steps_and_guidance(tg):
    bob = tg.person(21)
    await bob.photo("a man walking --recipe walking --seed 2", size=(300, 200))
    video = await bob.wait_video()
    caption = video.fields["caption"]
    assert "640x384 · 16 frames @ 8 fps · 60 steps · guidance 9.0" in caption
    assert "recipe walking" in caption
    assert (video.fields["width"], video.fields["height"]) == (640, 384)
    buttons = [b["callback_data"].split(":")[0]
               for row in video.fields["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["reroll", "extend"]  # no "better": a recipe is no preset
    await bob.text("/presets")
    listed = await bob.wait_text("Recipes")
    assert "• walking: 640x384, 16 frames @ 8 fps, 60 steps, guidance 9.0 · 1.13 credits" \
        in listed


async def test_the_coach_hints_once_for_walks_and_not_for_is_walking(tg):
    cara = tg.person(22)
    await cara.photo(f"a man walks to the door --gs 12 {FAST}")
    hint = await cara.wait_text(COACH)
    assert "“walks” → “is walking”" in hint and "Your prompt was used as written" in hint
    assert "Guidance 12 is above 10" in hint
    await cara.wait_video()
    assert sum(COACH in line for line in cara.replies()) == 1
    dan = tg.person(23, lang="zh")
    await dan.photo(f"a man is walking to the door {FAST}")
    await dan.wait_video()
    await dan.wait_text("完成")
    assert not any("💡" in line or "⚠️" in line for line in dan.replies())
    zh = tg.person(24, lang="zh")
    await zh.photo(f"waves crashed on the shore {FAST}")
    assert "“crashed” → “are crashing”" in await zh.wait_text("动作用进行时")
