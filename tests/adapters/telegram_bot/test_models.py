"""FastWan ("turbo") and Wan's speed mode in a Telegram chat, on the tiny engines: the bot
offers them, runs them through the real pipelines, and says in the caption what made the
video."""

from __future__ import annotations

import sqlite3

from bot.executors.local import LocalExecutor
from engine.worker import BatchRenderer
from tests.adapters.telegram_bot.conftest import ask, start_harness, stop_harness
from tests.adapters.telegram_bot.test_photos import frames_of

SMALL = "--size 160x128 --frames 17"


async def test_turbo_and_wan_fast_are_served_in_a_chat(api, tmp_path, tiny_wan, tiny_turbo,
                                                        tiny_classifier):
    gpu = LocalExecutor(lambda: BatchRenderer(tiny_turbo, tiny_wan, classifier=tiny_classifier))
    tg = await start_harness(api, tmp_path / "data", gpu, I2V_MODELS="turbo,wan")
    try:
        ann, bob = tg.person(10), tg.person(11)
        presets = await ask(ann, "/presets")
        assert "FastWan 2.2 TI2V-5B (3 steps) (the default; --model turbo):" in presets
        assert "max: 720p, 121 frames @ 24 fps, 3 steps, guidance 1.0" in presets
        await ann.photo(f"waves rolling {SMALL} --seed 4")  # the default model: turbo
        await bob.photo(f"waves rolling --model wan --fast {SMALL} --steps 10 --seed 4")
        turbo, fast = await ann.wait_video(timeout=120), await bob.wait_video(timeout=120)
        assert frames_of(api, turbo, tmp_path).shape == (17, 128, 160, 3)
        assert frames_of(api, fast, tmp_path).shape == (17, 128, 160, 3)
        caption = turbo.fields["caption"]
        assert "FastWan 2.2 TI2V-5B (3 steps) · preset standard" in caption
        assert "3 steps · guidance 1.0" in caption and "speed mode" not in caption
        caption = fast.fields["caption"]
        assert "Wan 2.2 TI2V-5B · preset standard" in caption and "10 steps" in caption
        assert "⚡ speed mode: TaylorSeer cache, guidance on the first half of the steps" \
            in caption
        # The distilled model has no speed mode of its own: refused, nothing charged.
        await bob.photo(f"waves --model turbo --fast {SMALL}")
        assert "The speed mode (--fast) is not available for turbo." in \
            await bob.wait_text("not available")
    finally:
        await stop_harness(tg)
    with sqlite3.connect(tmp_path / "data" / "i2vbot.sqlite3") as db:
        rows = db.execute("SELECT json_extract(params, '$.model'), "
                          "json_extract(params, '$.fast'), json_extract(params, '$.steps'), "
                          "status FROM jobs ORDER BY created_at").fetchall()
    assert rows == [("turbo", 0, 3, "delivered"), ("wan", 1, 10, "delivered")]
