"""What goes wrong, as a Telegram user meets it: a fault of ours, refused buttons, a video
Telegram will not take, garbage button data, and the edit throttle at its real pace."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from adapters.telegram_bot.status import GROUP_INTERVAL, PRIVATE_INTERVAL, StatusMessages
from bot.models import ChatRef, Job, JobStatus
from engine.spec.params import GenParams
from tests.adapters.telegram_bot.conftest import FAST, GROUP, ask
from tests.images import make_photo


async def settled(tg, job_id: str, timeout: float = 20) -> tuple[JobStatus, int]:
    """The job's status and what it holds in the ledger, once it has failed and been
    refunded (or as they are at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        status = (await tg.app.store.get_job(job_id)).status
        held = await tg.app.store.job_ledger_sum(job_id)
        if (status is JobStatus.FAILED and held == 0) or time.monotonic() > deadline:
            return status, held
        await asyncio.sleep(0.05)


def _job_id(call) -> str:
    return call.fields["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]


async def test_a_fault_of_ours_gets_an_apology_in_that_chat_only_and_is_logged(tg, caplog):
    ann, bob = tg.person(80), tg.person(81)

    async def broken(person):
        raise RuntimeError("the database caught fire")

    tg.app.core.balance = broken  # the next /quota fails inside the handler
    assert await ask(ann, "/quota") == "Something went wrong on our side; it has been logged."
    assert "the database caught fire" in caplog.text and "handler failed" in caplog.text
    assert "Send me a photo" in await ask(bob, "/start")  # everyone else is served
    assert not tg.api.of("sendMessage", chat_id=81, text="Something went wrong on our side; "
                                                         "it has been logged.")


async def test_a_button_that_hits_a_fault_answers_with_an_alert(tg):
    ann = tg.person(82)
    await ann.photo(f"a bell ringing {FAST}")
    video = await ann.wait_video()

    async def broken(person, job_id):
        raise RuntimeError("boom")

    tg.app.core.own_job = broken
    answer = await ann.answer(await ann.press(video.result["result"],
                                              f"reroll:{_job_id(video)}"))
    assert answer.fields["show_alert"] is True
    assert answer.fields["text"] == "Something went wrong on our side; it has been logged."


async def test_refused_reroll_and_better_at_the_top_preset_say_why(tg):
    ann = tg.person(83)
    await ann.photo(f"a flag waving --preset max {FAST}")
    top = await ann.wait_video()
    job = await tg.app.store.get_job(_job_id(top))
    assert job.params.preset == "max"
    buttons = [b["callback_data"] for row in top.fields["reply_markup"]["inline_keyboard"]
               for b in row]
    assert buttons == [f"reroll:{job.id}", f"extend:{job.id}"]  # no "better" at the top
    answer = await ann.answer(await ann.press(top.result["result"], f"better:{job.id}"))
    assert answer.fields["show_alert"] is True and "already the best preset" in \
        answer.fields["text"]

    job.input_path.unlink()  # the photo was deleted (retention) since
    await ann.answer(await ann.press(top.result["result"], f"reroll:{job.id}"))
    await ann.wait_text("The photo of this job is gone; send it again.")
    assert len(await tg.app.store.user_jobs(job.user_id, 10)) == 1  # nothing queued


@pytest.mark.parametrize(("refusal", "told"), [
    ("Bad Request: file is too big", "over the upload limit"),
    ("Bad Request: wrong file identifier/HTTP URL specified", "could not be sent here"),
])
async def test_a_video_telegram_refuses_is_explained_and_refunded(tg, refusal, told):
    ann = tg.person(84)
    tg.api.refuse["sendVideo"] = (400, refusal)
    await ann.photo(f"a wave breaking {FAST}")
    await ann.wait_text(told)
    user = await tg.app.store.find_user("telegram", "84")
    [job] = await tg.app.store.user_jobs(user.id)
    assert await settled(tg, job.id) == (JobStatus.FAILED, 0)
    assert not ann.videos()


async def test_a_chat_that_blocked_the_bot_gets_nothing_more_and_its_credit_back(tg):
    gone, ann = tg.person(85), tg.person(86)
    await tg.app.lifecycle.set_paused(True)
    await gone.photo(f"a bird flying {FAST}")
    await gone.wait_text("Queued")
    tg.api.blocked.add(85)
    user = await tg.app.store.find_user("telegram", "85")
    [job] = await tg.app.store.user_jobs(user.id)
    await tg.app.lifecycle.set_paused(False)
    await ann.photo(f"a tree swaying {FAST}")
    await ann.wait_video()
    assert await settled(tg, job.id) == (JobStatus.FAILED, 0)
    refused = [c for c in tg.api.calls if c.fields.get("chat_id") == 85 and not c.result["ok"]]
    assert len(refused) == 1  # the first 403 and then silence, no retries into the block


async def test_garbage_button_data_is_answered_and_ignored(tg):
    ann = tg.person(87)
    message = await ann.text("hello")
    for data in ("garbage", "reroll:", "explode:abc234", "cancel:nosuchjob"):
        answer = await ann.answer(await ann.press(message, data))
        assert answer.method == "answerCallbackQuery"  # the button stops spinning
    assert not tg.api.of("sendVideo")


async def test_the_largest_photo_that_fits_is_downloaded_and_a_file_is_used_as_sent(tg):
    ann = tg.person(88)
    limit = tg.adapter.limits.download_bytes
    sizes = []
    for width, height, file_size in ((90, 72, 3_000), (320, 256, 30_000),
                                     (1280, 1024, 300_000), (4000, 3200, limit + 1)):
        file_id = tg.api.add_file(make_photo(width, height), f"p{width}.jpg")
        sizes.append({"file_id": file_id, "file_unique_id": f"u{file_id}", "width": width,
                      "height": height, "file_size": file_size})
    await ann.send(photo=sizes, caption=f"a lamp flickering {FAST}")
    await ann.wait_video()
    assert [c.fields["file_id"] for c in tg.api.of("getFile")] == [sizes[2]["file_id"]]

    await ann.document(f"a lamp flickering {FAST}", make_photo(200, 150, "PNG"), "lamp.png",
                       "image/png")
    await ann.wait_video(2)
    doc = tg.api.of("getFile")[-1].fields["file_id"]
    assert tg.api.files[doc][0].endswith("lamp.png")


async def test_status_edits_keep_telegrams_pace_per_chat(tg):
    now = [0.0]
    status = StatusMessages(tg.adapter.application.bot, clock=lambda: now[0])
    assert (status.private_interval, status.group_interval) == (1.0, 3.0) == \
        (PRIVATE_INTERVAL, GROUP_INTERVAL)
    shown = 0
    for chat in (ChatRef("telegram", "89"),
                 ChatRef("telegram", str(GROUP["id"]), private=False)):
        job = _fake_job(chat)
        for moment in (0.0, 0.5, 0.99, 1.0, 2.9, 3.0, 3.5, 6.0):
            now[0] = moment
            await status.show(job, f"step at {moment}", force=False)
        edits = [c.fields["text"] for c in tg.api.calls if c.fields.get("chat_id")
                 == int(chat.chat_id) and c.method in ("sendMessage", "editMessageText")]
        expected = (["step at 0.0", "step at 1.0", "step at 2.9", "step at 6.0"]
                    if chat.private else ["step at 0.0", "step at 3.0", "step at 6.0"])
        assert edits == expected, chat
        shown += len(edits)
        now[0] += 0.01  # a forced edit (a new state, not progress) always goes through
        await status.show(job, "done", force=True)
    assert shown == 7


def _fake_job(chat: ChatRef) -> Job:
    return Job(id=f"j{chat.chat_id}", user_id=1, platform="telegram", chat=chat,
               status=JobStatus.RUNNING, caption="x",
               params=GenParams.from_preset("standard", "x", seed=1), cost=100,
               input_path=Path("x"), attempts=1, created_at=0.0)



async def test_what_the_photo_intake_refuses_and_how(tg):
    ann = tg.person(91)
    note = await ann.text("just text")
    assert "Send a photo" in await ask(ann, "/animate waves", reply_to=note)
    assert "Send a photo" in await ask(ann, "/animate waves")  # a reply to nothing

    limit = tg.adapter.limits.download_bytes
    file_id = tg.api.add_file(make_photo(160, 128))
    await ann.send(photo=[{"file_id": file_id, "file_unique_id": "u", "width": 160,
                           "height": 128, "file_size": limit + 1}], caption=f"waves {FAST}")
    await ann.wait_text("the limit is 20 MiB")

    tg.api.refuse["getFile"] = (400, "Bad Request: file is too big")
    await ann.photo(f"waves {FAST}")
    await ann.wait_text("the limit is 20 MiB. Send a smaller photo.")

    async def broken(request):
        raise RuntimeError("disk full")

    submit, tg.app.core.submit = tg.app.core.submit, broken
    await ann.photo(f"waves {FAST}")
    await ann.wait_text("Something went wrong on our side")  # not "checking the photo"
    tg.app.core.submit = submit
    assert not tg.api.of("sendVideo")


async def test_albums_that_cannot_be_animated_say_why(tg):
    ann = tg.person(92)
    group = {"media_group_id": "album2"}
    await ann.document(None, b"%PDF", "a.pdf", "application/pdf", **group)
    await ann.document(None, b"%PDF", "b.pdf", "application/pdf", **group)
    await ann.wait_text("None of the files in this album is a photo I can use.")
    group = {"media_group_id": "album3"}
    await ann.photo(None, **group)
    await ann.photo(None, **group)
    await ann.wait_text("Add a caption describing the motion")

    cara = tg.person(93, chat=GROUP)  # in a group, an album for the people is left alone
    group = {"media_group_id": "album4"}
    await cara.photo("our holiday", **group)
    await cara.photo(None, **group)
    await cara.text("/help")
    await cara.wait_text("subject + action")
    assert not [t for t in cara.replies() if "checking" in t or "Queued" in t]


async def test_a_refusal_after_the_status_message_was_deleted_is_sent_anew(tg):
    ann = tg.person(94)
    real_submit = tg.app.core.submit

    async def slow_refusal(request):
        status = int(request.chat.status_message)
        tg.api.deleted.add((94, status))  # the person deleted "checking the photo"
        return await real_submit(request)

    tg.app.core.submit = slow_refusal
    await ann.photo("waves --frames 999")
    refused = await tg.api.wait_for(lambda: [
        c for c in tg.api.of("sendMessage", chat_id=94) if "frames must" in c.fields["text"]])
    assert len(refused) == 1  # a new message, since the old one could not be edited
    assert not [c for c in tg.api.of("editMessageText", chat_id=94) if c.result["ok"]]
