"""Live previews in Telegram: the status message becomes a photo that changes as the video
forms, its cancel button beneath it, then the video; a preview Telegram refuses or that
hangs never holds back or loses the video."""

from __future__ import annotations

import io

from PIL import Image

from bot.models import JobStatus
from tests.adapters.telegram_bot.conftest import (
    FAST,
    shown_text,
    start_harness,
    status_edits,
    stop_harness,
)
from tests.fake_executor import FakeExecutor

NO_THROTTLE = (0.0, 0.0)  # every edit shows: the previews of a job of milliseconds too


def job_of(call) -> str:
    return call.fields["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]


async def shown_up_to(tg, step: int) -> str:
    """Wait until the running job's events up to `step` (held there) are all shown."""
    await tg.api.wait_for(lambda: tg.gpu.running)
    job_id = tg.gpu.running[0]
    await tg.gpu.reached(job_id, step)
    assert await tg.app.events.drain(10)
    await tg.adapter.notifier.lanes.drain()
    return job_id


async def test_a_job_shows_its_previews_in_one_status_message_then_the_video(api, tmp_path):
    gpu = FakeExecutor(previews=True)
    gpu.script("cat", pause_at=(3, 6, 9))  # each preview shown before the job goes on
    tg = await start_harness(api, tmp_path / "data", gpu, edit_intervals=NO_THROTTLE)
    try:
        ann = tg.person(60)
        await ann.photo(f"a cat turning its head slowly {FAST}")
        for step in (3, 6, 9):
            job_id = await shown_up_to(tg, step)
            assert len(ann.previews()) == step // 3
            gpu.release(job_id)
        video = await ann.wait_video()
        await ann.wait_text("Done")
        delivered = (await tg.app.store.get_job(job_of(video))).status
    finally:
        await stop_harness(tg)
    assert delivered is JobStatus.DELIVERED
    status = api.of("sendMessage", chat_id=60)
    assert len(status) == 1  # one status message, no stream of photos
    status_id = status[0].result["result"]["message_id"]
    assert not api.of("sendPhoto")
    previews = ann.previews()
    assert [shown_text(c).split()[-1] for c in previews] == ["3/10", "6/10", "9/10"]
    jobs = set()
    for call in previews:
        assert call.fields["message_id"] == status_id
        image = Image.open(io.BytesIO(api.preview_of(call)))
        assert image.format == "JPEG" and image.size == (128, 128)
        jobs.add(job_of(call))  # cancel stays one press away, under the photo
        assert call.fields["reply_markup"]["inline_keyboard"][0][0]["text"] == "✖ Cancel"
    assert len({api.preview_of(c) for c in previews}) == 3  # each its own picture
    assert jobs == {job_of(video)}
    # After the previews: the caption says it is encoding, the video comes, the status is
    # done, without the cancel button.
    assert api.calls.index(previews[-1]) < api.calls.index(video)
    edits = status_edits(api, 60)
    after = edits[edits.index(previews[-1]) + 1:]
    assert {c.method for c in after} == {"editMessageCaption"}
    assert any("Encoding" in shown_text(c) for c in after)
    assert shown_text(after[-1]).startswith("✅ Done")
    assert "reply_markup" not in after[-1].fields
    assert api.messages[(60, status_id)]["caption"].startswith("✅ Done")


async def test_cancel_under_a_preview_stops_the_job(api, tmp_path):
    gpu = FakeExecutor(previews=True)
    gpu.script("river", hold_at=3)
    tg = await start_harness(api, tmp_path / "data", gpu, edit_intervals=NO_THROTTLE)
    try:
        ann = tg.person(61)
        await ann.photo(f"a river flowing {FAST}")
        await api.wait_for(lambda: ann.previews())
        preview = ann.previews()[0]
        job_id = job_of(preview)
        message = api.messages[(61, preview.fields["message_id"])]
        assert "photo" in message and "step 3/10" in message["caption"]
        await ann.answer(await ann.press(message, f"cancel:{job_id}"))
        await ann.wait_text(f"Job {job_id} was cancelled")
        assert (await tg.app.store.get_job(job_id)).status is JobStatus.CANCELLED
        assert "was cancelled" in message["caption"] and not ann.videos()
    finally:
        await stop_harness(tg)


async def test_a_refused_preview_ends_the_previews_and_the_video_still_comes(api, tmp_path):
    gpu = FakeExecutor(previews=True)
    gpu.script("waves", pause_at=(3, 6))
    tg = await start_harness(api, tmp_path / "data", gpu, edit_intervals=NO_THROTTLE)
    api.refuse["editMessageMedia"] = (400, "Bad Request: IMAGE_PROCESS_FAILED")
    try:
        ann = tg.person(62)
        await ann.photo(f"waves lapping on the shore {FAST}")
        job_id = await shown_up_to(tg, 3)
        assert len(api.of("editMessageMedia")) == 1 and not ann.previews()  # refused
        gpu.release(job_id)
        await shown_up_to(tg, 6)
        assert len(api.of("editMessageMedia")) == 1  # no more tries for this job
        gpu.release(job_id)
        await ann.wait_video()
        await ann.wait_text("Done")
        delivered = (await tg.app.store.get_job(job_id)).status
    finally:
        await stop_harness(tg)
    assert delivered is JobStatus.DELIVERED
    # The status went on as text, and ends as it always did.
    texts = [c.fields["text"] for c in api.of("editMessageText", chat_id=62)]
    assert any("step 10/10" in t for t in texts) and texts[-1].startswith("✅ Done")


async def test_a_preview_that_fails_once_is_dropped_and_the_next_one_shows(api, tmp_path):
    gpu = FakeExecutor(previews=True)
    gpu.script("leaves", pause_at=(3, 6, 9))
    tg = await start_harness(api, tmp_path / "data", gpu, edit_intervals=NO_THROTTLE)
    api.refuse["editMessageMedia"] = (502, "Bad Gateway")  # a network failure
    try:
        ann = tg.person(63)
        await ann.photo(f"leaves falling gently {FAST}")
        for step in (3, 6, 9):
            gpu.release(await shown_up_to(tg, step))
        await ann.wait_video()
        await ann.wait_text("Done")
    finally:
        await stop_harness(tg)
    assert [shown_text(c).split()[-1] for c in ann.previews()] == ["6/10", "9/10"]
    assert len(api.of("editMessageMedia")) == 3


async def test_a_hanging_preview_upload_is_given_up_for_the_video(api, tmp_path):
    gpu = FakeExecutor(previews=True)
    gpu.script("balloon", hold_at=9)  # after its last preview
    tg = await start_harness(api, tmp_path / "data", gpu, edit_intervals=NO_THROTTLE)
    api.hold("editMessageMedia")  # the first preview's upload never finishes
    try:
        ann = tg.person(64)
        await ann.photo(f"a balloon rising {FAST}")
        await api.wait_for(lambda: api.held)
        job_id = gpu.running[0]
        gpu.release(job_id)
        video = await ann.wait_video()  # while the upload still hangs
        assert api.held and not api.of("editMessageMedia")
        await ann.wait_text("Done")
        assert (await tg.app.store.get_job(job_of(video))).status is JobStatus.DELIVERED
        # The previews after it were shown as plain progress: the video came first.
        assert len(api.held) == 1
    finally:
        api.release("editMessageMedia")
        await stop_harness(tg)
