"""Live previews in Discord: the interaction's status message is edited with the newest
preview attached, its cancel button beside it, then the video comes as a follow-up; a
preview Discord refuses never loses the video."""

from __future__ import annotations

import io
import itertools

from PIL import Image

from bot.models import JobStatus, Person
from tests.adapters.discord_bot.conftest import USER, animate_data, interaction, running_bot
from tests.adapters.discord_bot.fake_discord import APP_ID, FakeDiscord, Recorded
from tests.adapters.discord_bot.helpers import check_video, custom_ids, edits, followup, send
from tests.bot.conftest import FAST
from tests.fake_executor import FakeExecutor
from tests.images import make_photo


def previews(fake: FakeDiscord, payload) -> list[Recorded]:
    """The status edits that carried a preview and were taken."""
    path = f"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    return [r for r in fake.requests if r.method == "PATCH" and r.path == path and r.files]


def ticking(step: float = 2.0):
    """A clock that moves on past the edit throttle at every look: each edit is due."""
    moments = itertools.count(0.0, step)
    return lambda: next(moments)


async def run_job(bot, fake: FakeDiscord, prompt: str):
    """Start a job paused at each preview step; go on once all it sent is shown."""
    attachment = fake.add_attachment("cat.jpg", make_photo(160, 128), "image/jpeg")
    payload = interaction(2, animate_data(attachment, f"{prompt} {FAST}"))
    await send(fake, payload)
    original = f"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    await fake.wait_for(lambda r: r.method == "PATCH" and r.path == original)  # queued
    [job] = await bot.app.core.history(Person("discord", str(USER)))
    for step in (3, 6, 9):
        await bot.gpu.reached(job.id, step)
        assert await bot.app.events.drain(10)
        await bot.notifier.lanes.drain()
        bot.gpu.release(job.id)
    return payload, job


async def test_a_job_shows_its_previews_in_its_status_then_the_video(tmp_path, fake):
    gpu = FakeExecutor(previews=True)
    gpu.script("cat", pause_at=(3, 6, 9))
    async with running_bot(tmp_path, fake, gpu=gpu) as bot:
        bot.notifier.clock = ticking()
        payload, job = await run_job(bot, fake, "a cat turning its head")
        video = await followup(fake, payload, files=True)
        check_video(video, tmp_path)
        shown = previews(fake, payload)
        assert [r.content.split()[-1] for r in shown] == ["3/10", "6/10", "9/10"]
        images = []
        for record in shown:
            ((name, data),) = record.files.values()
            assert name == f"i2v-{job.id}-preview.jpg"
            image = Image.open(io.BytesIO(data))
            assert image.format == "JPEG" and image.size == (128, 128)
            images.append(data)
            assert f"i2v:cancel:{job.id}" in custom_ids(record)  # cancel beside it
            assert [a["filename"] for a in record.json["attachments"]] == [name]  # it alone
        assert len(set(images)) == 3
        assert fake.requests.index(shown[-1]) < fake.requests.index(video)
        assert "Done" in edits(fake, payload)[-1]
        await bot.notifier.lanes.drain()  # the video's delivery is told to the core
        assert (await bot.app.store.get_job(job.id)).status is JobStatus.DELIVERED


async def test_a_refused_preview_is_dropped_and_the_video_still_comes(tmp_path, fake):
    gpu = FakeExecutor(previews=True)
    gpu.script("dog", pause_at=(3, 6, 9))
    async with running_bot(tmp_path, fake, gpu=gpu) as bot:
        bot.notifier.clock = ticking()
        fake.fail_next("PATCH", "/messages/@original", status=413, via=False, with_files=True,
                       body={"message": "Request entity too large", "code": 40005})
        payload, job = await run_job(bot, fake, "a dog running")
        video = await followup(fake, payload, files=True)
        check_video(video, tmp_path)
        assert [r.content.split()[-1] for r in previews(fake, payload)] == ["6/10", "9/10"]
        assert [r for r in fake.requests if r.path.endswith("[refused]") and r.files]
        await bot.notifier.lanes.drain()
        assert (await bot.app.store.get_job(job.id)).status is JobStatus.DELIVERED
