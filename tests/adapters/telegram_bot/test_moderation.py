"""Moderation in Telegram, through the fake Bot API: a refused photo gets the neutral message
and no job; a video refused after rendering is not sent and its credits come back; the
refusals are listed by `/admin moderation`; a person refused twice (here) is paused for the
day and the admin told in their private chat; `I2V_MODERATION=off` changes nothing.

The classifier is the tiny stand-in (it refuses mostly red pictures); the videos are made
by the pan test model on the real worker, whose camera glides onto a photo's red side."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.executors.local import LocalExecutor
from engine.config import EngineConfig
from engine.worker import BatchRenderer
from tests.adapters.telegram_bot.conftest import (
    ADMIN_ID,
    FAST,
    Harness,
    ask,
    start_harness,
    stop_harness,
)
from tests.fake_executor import FakeExecutor
from tests.images import red_left
from tests.models.pan.engine import PanEngine

RED = red_left(320, 192, 1.0)  # refused as a photo
PANS_RED = red_left(320, 192, 0.7)  # passes as a photo; the pan's frames are mostly red
GREEN = red_left(320, 192, 0.0)
SIZE = (320, 192)


@pytest.fixture
async def pan_tg(pan, api, tmp_path, tiny_classifier) -> AsyncIterator[Harness]:
    """Telegram on the real worker with the pan model; two refusals a day pause a person."""
    engine = PanEngine(EngineConfig(model="tiny", family="pan", device="cpu"))
    gpu = LocalExecutor(lambda: BatchRenderer(engine, classifier=tiny_classifier))
    harness = await start_harness(api, tmp_path / "data", gpu, I2V_MODELS="pan",
                                  I2V_MODERATION_DAILY_LIMIT=2)
    yield harness
    await stop_harness(harness)


async def test_refused_photos_and_videos_and_the_daily_pause(pan_tg):
    tg = pan_tg
    ann, admin = tg.person(10), tg.person(ADMIN_ID)
    await ask(admin, "/start")

    await ann.photo("a boat drifting", data=RED, size=SIZE)
    assert await ann.wait_text("can't be used") == \
        "This photo can't be used here. Please send a different one."
    assert await tg.app.store.count_jobs() == 0

    await ann.photo("a boat drifting", data=PANS_RED, size=SIZE)
    failed = await ann.wait_text("failed")
    assert "The video made from it can't be sent here. Your credits were returned." in failed
    user = await tg.app.store.find_user("telegram", "10")
    [job] = await tg.app.store.user_jobs(user.id)
    assert await tg.app.store.job_ledger_sum(job.id) == 0 and ann.videos() == []

    # The second refusal today: Ann is paused, the admin hears of it in their private chat.
    alert = await admin.wait_text("was refused 2 times today")
    assert "User10 (telegram:10)" in alert and "/admin moderation telegram:10 lift" in alert
    await ann.photo("a boat drifting", data=GREEN, size=SIZE)
    assert "can't send more photos today" in await ann.wait_text("today")
    assert len(await tg.app.store.user_jobs(user.id)) == 1

    listing = await ask(admin, "/admin moderation")
    lines = listing.splitlines()
    assert lines[0].startswith("Moderation: photos+videos, refusing at nsfw ≥ 0.5; 2 refusals")
    assert "telegram:10 video nsfw" in lines[1] and f"job {job.id}" in lines[1]
    assert "telegram:10 photo nsfw 1.00" in lines[2]
    assert "2 refused today (1 photos, 1 videos); people paused: 1" in await ask(
        admin, "/admin stats")
    assert "may send photos again today" in await ask(
        admin, "/admin moderation telegram:10 lift")
    await ann.photo("a boat drifting", data=GREEN, size=SIZE)
    video = await ann.wait_video()
    assert "Pan (a test model)" in video.fields["caption"]


async def test_chinese_speakers_get_the_neutral_message_in_chinese(tg):
    li = tg.person(11, lang="zh-hans")
    await li.photo(f"一只猫 {FAST}", data=RED, size=SIZE)
    assert await li.wait_text("这张照片") == "这张照片无法在这里使用，请换一张。"


async def test_moderation_off_changes_nothing(api, tmp_path):
    gpu = FakeExecutor()
    gpu.script("boat", nsfw=0.99)  # a worker would refuse this video, were it asked to
    harness = await start_harness(api, tmp_path / "data", gpu, I2V_MODERATION="off")
    try:
        ann = harness.person(10)
        await ann.photo(f"a boat drifting {FAST}", data=RED, size=SIZE)
        video = await ann.wait_video()
        assert "a boat drifting" in video.fields["caption"]
        assert not any("can't" in text for text in ann.replies())
        [spec] = gpu.specs.values()
        assert spec.moderation is None
        assert await harness.app.store.refusals() == []
    finally:
        await stop_harness(harness)
