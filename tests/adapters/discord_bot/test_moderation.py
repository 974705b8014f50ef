"""Moderation in Discord, through the fake Discord: a refused image gets the neutral private
answer and no job; a video refused after rendering is not posted and is refunded; the admin
is told of the daily pause by direct message and lists the refusals with `/admin
moderation`. The classifier is the tiny stand-in (it refuses mostly red pictures); the pan
test model makes the videos on the real worker, its camera gliding onto the red side."""

from __future__ import annotations

from bot.executors.local import LocalExecutor
from bot.models import Person
from engine.config import EngineConfig
from engine.worker import BatchRenderer
from tests.adapters.discord_bot.conftest import (
    ADMIN,
    USER,
    admin_data,
    animate_data,
    interaction,
    running_bot,
)
from tests.adapters.discord_bot.fake_discord import DM_CHANNEL
from tests.adapters.discord_bot.helpers import EPHEMERAL, edits, ephemeral_text, followup, send
from tests.images import red_left
from tests.models.pan.engine import PanEngine

RED = red_left(320, 192, 1.0)  # refused as a photo
PANS_RED = red_left(320, 192, 0.7)  # passes as a photo; the pan's frames are mostly red


async def test_refused_images_videos_the_pause_and_the_admins_listing(pan, tmp_path, fake,
                                                                      tiny_classifier):
    engine = PanEngine(EngineConfig(model="tiny", family="pan", device="cpu"))
    gpu = LocalExecutor(lambda: BatchRenderer(engine, classifier=tiny_classifier))
    async with running_bot(tmp_path, fake, gpu, I2V_MODELS="pan",
                           I2V_MODERATION_DAILY_LIMIT=2) as bot:
        red = fake.add_attachment("red.jpg", RED, "image/jpeg")
        payload = interaction(2, animate_data(red, "a boat drifting"))
        await send(fake, payload)
        refusal = await followup(fake, payload, timeout=20)
        assert refusal.flags & EPHEMERAL
        assert refusal.content == "This photo can't be used here. Please send a different one."
        assert await bot.app.store.count_jobs() == 0

        pans = fake.add_attachment("boat.jpg", PANS_RED, "image/jpeg")
        payload = interaction(2, animate_data(pans, "a boat drifting"))
        await send(fake, payload)
        await fake.wait_for(lambda r: payload["token"] in r.path and "failed" in r.content,
                            timeout=60)
        shown = edits(fake, payload)
        assert "The video made from it can't be sent here. Your credits were returned." in \
            shown[-1]
        assert not any(r.files for r in fake.requests)  # no video went anywhere
        [job] = await bot.app.core.history(Person("discord", str(USER)))
        assert await bot.app.store.job_ledger_sum(job.id) == 0

        # The second refusal of the day: the admin gets a direct message.
        opened = await fake.wait_for(lambda r: r.path.endswith("/users/@me/channels"))
        assert int(opened.json["recipient_id"]) == ADMIN
        told = await fake.wait_for(lambda r: r.path == f"/channels/{DM_CHANNEL}/messages"
                                   and "refused 2 times" in r.content)
        assert f"discord:{USER}" in told.content
        payload = interaction(2, animate_data(fake.add_attachment(
            "green.jpg", red_left(320, 192, 0.0), "image/jpeg"), "a boat drifting"))
        await send(fake, payload)
        paused = await followup(fake, payload, timeout=20)
        assert "can't send more photos today" in paused.content

        listing = ephemeral_text(await send(fake, interaction(
            2, admin_data("moderation", user=USER), user=ADMIN, admin_perms=True)))
        header, video, photo = listing.splitlines()
        assert "2 refusals in a day pause a person" in header
        assert f"(discord:{USER}) video nsfw" in video and f"job {job.id}" in video
        assert f"(discord:{USER}) photo nsfw 1.00" in photo
        lifted = ephemeral_text(await send(fake, interaction(
            2, admin_data("moderation", user=USER, lift=True), user=ADMIN, admin_perms=True)))
        assert "may send photos again today (2 refusals set aside)" in lifted
