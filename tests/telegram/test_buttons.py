"""Re-roll, better quality and cancel buttons; only the person who asked may use them."""

from __future__ import annotations

from bot.models import JobStatus
from tests.telegram.conftest import FAST


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
