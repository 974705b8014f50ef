"""Re-roll, better quality and cancel buttons; only the person who asked may use them."""

from __future__ import annotations

from bot.models import JobStatus
from tests.adapters.telegram_bot.conftest import FAST


def _job_id(call) -> str:
    return call.fields["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]


async def test_reroll_and_better_quality_make_new_jobs_only_for_the_owner(tg):
    ann, eve = tg.person(20), tg.person(21)
    await ann.photo(f"a dog wagging its tail --preset preview --seed 5 {FAST}")
    first = await ann.wait_video()
    job_id = _job_id(first)
    video_message = first.result["result"]

    # A stranger's presses are refused with an alert, and nothing is queued.
    for data in (f"reroll:{job_id}", f"better:{job_id}"):
        answer = await eve.answer(await eve.press(video_message, data))
        assert answer.fields["show_alert"] is True
        assert "Only the person who asked" in answer.fields["text"]

    answer = await ann.answer(await ann.press(video_message, f"reroll:{job_id}"))
    assert not answer.fields.get("show_alert")
    reroll = await ann.wait_video(2)
    answer = await ann.answer(await ann.press(video_message, f"better:{job_id}"))
    better = await ann.wait_video(3)

    store = tg.app.store
    original = await store.get_job(job_id)
    rerolled, improved = await store.get_job(_job_id(reroll)), await store.get_job(_job_id(better))
    assert rerolled.params.preset == "preview" and rerolled.seed != 5
    assert improved.params.preset == "standard" and improved.seed == 5
    assert (improved.params.frames, improved.params.steps) == (8, 10)  # the flags still hold
    assert original.status is rerolled.status is improved.status is JobStatus.DELIVERED
    assert len(await store.user_jobs(original.user_id, 10)) == 3


async def test_cancel_stops_a_queued_and_a_running_job(tg):
    ann, eve = tg.person(22), tg.person(23)
    # Queued: the queue is paused, so the job waits with its cancel button.
    await tg.app.lifecycle.set_paused(True)
    await ann.photo(f"clouds drifting {FAST}")
    queued = await tg.api.wait_call("editMessageText", chat_id=22)
    job_id = queued.fields["reply_markup"]["inline_keyboard"][0][0]["callback_data"][7:]
    status_message = queued.result["result"]
    answer = await eve.answer(await eve.press(status_message, f"cancel:{job_id}"))
    assert answer.fields["show_alert"] is True
    answer = await ann.answer(await ann.press(status_message, f"cancel:{job_id}"))
    assert "Cancelling" in answer.fields["text"]
    await ann.wait_text("was cancelled")
    assert (await tg.app.store.get_job(job_id)).status is JobStatus.CANCELLED

    # Running: the job is held at its second step until the cancel stops it.
    tg.gpu.script("river", hold_at=2)
    await tg.app.lifecycle.set_paused(False)
    await ann.photo(f"a river flowing {FAST}")
    running = await tg.api.wait_for(lambda: next(
        (c for c in tg.api.of("editMessageText", chat_id=22)
         if "Starting job" in c.fields["text"]), None))
    job_id = running.fields["reply_markup"]["inline_keyboard"][0][0]["callback_data"][7:]
    await tg.gpu.reached(job_id, 2)
    await ann.answer(await ann.press(running.result["result"], f"cancel:{job_id}"))
    await tg.api.wait_for(lambda: any(
        f"Job {job_id} was cancelled" in t for t in ann.replies()), 30)
    job = await tg.app.store.get_job(job_id)
    assert job.status is JobStatus.CANCELLED and job.output_path is None
    assert not ann.videos()


async def test_a_video_is_extended_by_its_button_by_extend_and_by_a_reply(tg):
    ann, eve = tg.person(24), tg.person(25)
    await ann.photo(f"a balloon rising --seed 3 {FAST}")
    first = await ann.wait_video()
    job_id = _job_id(first)
    buttons = [b["callback_data"] for row in first.fields["reply_markup"]["inline_keyboard"]
               for b in row]
    assert f"extend:{job_id}" in buttons
    answer = await eve.answer(await eve.press(first.result["result"], f"extend:{job_id}"))
    assert answer.fields["show_alert"] is True  # only the owner

    await ann.answer(await ann.press(first.result["result"], f"extend:{job_id}"))
    second = await ann.wait_video(2)
    await ann.text("/extend", reply_to=second.result["result"])  # a reply names the video
    third = await ann.wait_video(3)
    await ann.text("the balloon drifting away to the left", reply_to=third.result["result"])
    fourth = await ann.wait_video(4)
    await ann.text(f"/extend {_job_id(fourth)} the balloon landing")
    fifth = await ann.wait_video(5)

    store = tg.app.store
    jobs = [await store.get_job(_job_id(v)) for v in (first, second, third, fourth, fifth)]
    assert [j.extension for j in jobs] == [0, 1, 2, 3, 4]
    assert [j.extends for j in jobs[1:]] == [j.id for j in jobs[:-1]]
    assert jobs[3].params.prompt == "the balloon drifting away to the left"
    assert jobs[4].params.prompt == "the balloon landing"
    assert "extension 4" in fifth.fields["caption"]
    assert fifth.fields["duration"] == 5  # 8 + 4 x 7 frames at 8 fps: 4.5 s, rounded up
    await ann.text(f"/extend {jobs[4].id}")  # the default limit is 4
    await ann.wait_text("extended 4 times already")
    await ann.text("/extend")
    await ann.wait_text("Usage: /extend JOB [new prompt]")
