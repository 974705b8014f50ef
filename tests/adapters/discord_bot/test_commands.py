"""The everyday slash commands, and what goes wrong for a Discord user: refused buttons, a
video Discord will not take, a dead interaction, and the progress pace."""

from __future__ import annotations

import asyncio
import time

from adapters.discord_bot.notifier import PROGRESS_EVERY, DiscordNotifier
from bot.models import ChatRef, EventKind, JobEvent, JobStatus, Person
from tests.adapters.discord_bot.conftest import CHANNEL, USER, animate_data, interaction, slash
from tests.adapters.discord_bot.fake_discord import APP_ID, DM_CHANNEL
from tests.adapters.discord_bot.helpers import (
    check_video,
    custom_ids,
    ephemeral_text,
    followup,
    send,
)
from tests.adapters.discord_bot.test_buttons import message, press
from tests.adapters.telegram_bot.test_errors import _fake_job
from tests.bot.conftest import FAST
from tests.images import make_photo


def photo(fake, name: str = "cat.jpg"):
    return fake.add_attachment(name, make_photo(160, 128), "image/jpeg")


async def ask(fake, name: str, *options: dict, **kwargs) -> str:
    return ephemeral_text(await send(fake, interaction(2, slash(name, list(options)),
                                                       **kwargs)))


def button_press(custom_id: str) -> dict:
    """A press of a button with this custom_id on a message that carries it."""
    row = [{"type": 1, "components": [{"type": 2, "style": 1, "label": "press",
                                       "custom_id": custom_id}]}]
    return interaction(3, {"custom_id": custom_id, "component_type": 2},
                       message=message("an earlier video", components=row))


def option(name: str, value, kind: int = 3) -> dict:
    return {"name": name, "type": kind, "value": value}


async def settled(bot, job_id: str, timeout: float = 30) -> tuple[JobStatus, int]:
    deadline = time.monotonic() + timeout
    while True:
        job = await bot.app.store.get_job(job_id)
        held = await bot.app.store.job_ledger_sum(job_id)
        if (job.status.terminal and held == 0) or time.monotonic() > deadline:
            return job.status, held
        await asyncio.sleep(0.05)


async def test_queue_cancel_history_presets_and_preset(bot, fake):
    assert await ask(fake, "queue") == "The queue is empty: a new video starts right away."
    assert await ask(fake, "history") == "You have no videos yet."
    assert await ask(fake, "cancel") == "You have no video waiting or running."
    await bot.app.lifecycle.set_paused(True)
    payload = interaction(2, animate_data(photo(fake), f"a cat turning --seed 4 {FAST}"))
    await send(fake, payload)
    await fake.wait_for(lambda r: payload["token"] in r.path and "Queued" in r.content)
    [job] = await bot.app.core.history(Person("discord", str(USER)))
    assert await ask(fake, "queue") == f"1 videos in line (paused). Yours: {job.id} (#1)."
    assert await ask(fake, "history", locale="zh-CN") == \
        f"你最近的视频：\n{job.id} · 排队中 · standard · 种子 4 · a cat turning"
    assert await ask(fake, "cancel", option("job", "nope")) == \
        "No job nope of yours was found. /history lists your jobs."
    assert await ask(fake, "cancel", option("job", job.id)) == f"🛑 Job {job.id} was " \
        "cancelled. Your credits were returned."
    assert await settled(bot, job.id) == (JobStatus.CANCELLED, 0)
    presets = await ask(fake, "presets")
    assert presets.startswith("Presets (credits):") and "• standard: 512p, 16 frames" in presets
    assert await ask(fake, "preset", option("name", "high")) == \
        "Your default preset is now high."
    assert (await bot.app.core.user(Person("discord", str(USER)))).default_preset == "high"


async def test_refused_reroll_and_better_at_the_top_preset_say_why(bot, fake):
    payload = interaction(2, animate_data(photo(fake), f"a flag waving {FAST}", preset="max"))
    await send(fake, payload)
    video = await followup(fake, payload, files=True)
    [job] = await bot.app.core.history(Person("discord", str(USER)))
    assert job.params.preset == "max"
    assert [i.split(":")[1] for i in custom_ids(video)] == ["reroll", "extend"]  # no "better"
    old_button = button_press(f"i2v:better:{job.id}")  # e.g. under an older version's video
    assert ephemeral_text(await send(fake, old_button)) == "This is already the best preset."
    job.input_path.unlink()
    reroll = press(video, "reroll")
    await send(fake, reroll)
    refused = await followup(fake, reroll, timeout=10)
    assert "The photo of this job is gone" in refused.content
    assert len(await bot.app.core.history(Person("discord", str(USER)))) == 1


async def test_a_button_for_a_job_that_does_not_exist_is_refused_politely(bot, fake):
    assert ephemeral_text(await send(fake, button_press("i2v:reroll:zzzzzz"))) == \
        "Only the person who asked for this video can use its buttons."


async def test_a_video_over_the_servers_limit_is_explained_and_refunded(bot, fake):
    payload = interaction(2, animate_data(photo(fake), f"a wave {FAST}"), size_limit=1024)
    await send(fake, payload)
    job = None
    while job is None:
        jobs = await bot.app.core.history(Person("discord", str(USER)))
        job = jobs[0] if jobs else None
        await asyncio.sleep(0.05)
    assert await settled(bot, job.id) == (JobStatus.FAILED, 0)
    refusal = await fake.wait_for(lambda r: payload["token"] in r.path and
                                  "upload limit" in r.content)
    assert "does not fit the 0.00098 MiB upload limit" in refusal.content


async def test_when_the_interaction_is_gone_the_video_goes_to_the_channel(bot, fake, tmp_path):
    payload = interaction(2, animate_data(photo(fake), f"a dog running {FAST}"))
    fake.fail_next("POST", rf"^/webhooks/{APP_ID}/{payload['token']}$", status=404,
                   body={"message": "Unknown Webhook", "code": 10015}, via=False)
    await send(fake, payload)
    posted = await fake.wait_for(lambda r: r.path == f"/channels/{CHANNEL}/messages"
                                 and r.files, timeout=60)
    assert posted.content.startswith(f"<@{USER}> your video is ready")
    check_video(posted, tmp_path)
    [job] = await bot.app.core.history(Person("discord", str(USER)))
    deadline = time.monotonic() + 10
    while (await bot.app.store.get_job(job.id)).status is not JobStatus.DELIVERED:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_a_video_that_can_be_sent_nowhere_is_refunded(bot, fake):
    bot.notifier.token_ttl = 0  # the interaction expired while the job waited
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=403,
                   body={"message": "Missing Access", "code": 50001}, via=False)
    fake.fail_next("POST", f"/channels/{DM_CHANNEL}/messages", status=403,
                   body={"message": "Cannot send messages to this user", "code": 50007},
                   via=False)
    payload = interaction(2, animate_data(photo(fake), f"a dog running {FAST}"))
    await send(fake, payload)
    await fake.wait_for(lambda r: r.path.startswith(f"/channels/{DM_CHANNEL}/messages"))
    [job] = await bot.app.core.history(Person("discord", str(USER)))
    assert await settled(bot, job.id) == (JobStatus.FAILED, 0)
    assert (await bot.app.store.get_job(job.id)).error == "upload_failed"


async def test_progress_edits_keep_their_pace(bot):
    now = [0.0]
    notifier = DiscordNotifier(bot.adapter.bot, bot.app.core, clock=lambda: now[0])
    job = _fake_job(ChatRef("discord", str(CHANNEL)))
    due = []
    for moment, step in ((0.0, 1), (1.0, 2), (1.49, 3), (1.5, 4), (2.0, 5), (3.0, 10)):
        now[0] = moment
        if notifier._due(JobEvent(EventKind.PROGRESS, job, step=step, total_steps=10)):
            due.append(step)
    assert PROGRESS_EVERY == 1.5 and due == [1, 4, 10]  # the last step always shows


async def test_a_fault_of_ours_is_a_private_apology_before_or_after_the_defer(bot, fake,
                                                                            caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("the database caught fire")

    bot.app.core.balance = broken
    assert await ask(fake, "quota") == "Something went wrong on our side; it has been logged."
    bot.app.core.submit = broken  # fails after the public "thinking…" answer
    payload = interaction(2, animate_data(photo(fake), f"a cat {FAST}"))
    assert (await send(fake, payload)).json["type"] == 5
    apology = await followup(fake, payload, timeout=10)
    assert apology.flags & 64 and "Something went wrong" in apology.content
    assert fake.matching("DELETE", f"/webhooks/{APP_ID}/{payload['token']}/messages/@original")
    assert caplog.text.count("the database caught fire") >= 2
