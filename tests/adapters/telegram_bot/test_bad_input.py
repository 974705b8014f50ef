"""Bad input gets a message each, in the person's language, and hurts nobody else."""

from __future__ import annotations

from bot.models import JobStatus
from tests.adapters.telegram_bot.conftest import FAST, start_harness, stop_harness
from tests.fake_executor import FakeExecutor
from tests.images import make_photo, png_bomb

STICKER = {"file_id": "stk", "file_unique_id": "ustk", "type": "regular", "width": 512,
           "height": 512, "is_animated": False, "is_video": False}


async def test_each_bad_input_gets_its_message_and_the_next_photo_still_works(tg):
    eve = tg.person(40)
    cases = [
        (eve.send(sticker=STICKER), "Send a photo with a caption"),
        (eve.document("waves", b"%PDF-1.4 not a photo", "notes.pdf", "application/pdf"),
         "“notes.pdf” is not an image"),
        (eve.document("waves", make_photo(160, 128, "GIF"), "cat.gif", "image/gif"),
         "GIF images are not supported"),
        (eve.document(f"waves {FAST}", png_bomb(8000), "huge.png", "image/png"),
         "too large (8000x8000)"),
        (eve.photo(f"waves {FAST}", b"\xff\xd8\xff\xe0 this is not really a jpeg"),
         "not an image I can read"),
        (eve.photo("waves --frames 999"), "frames must be between 8 and 32"),
        (eve.photo("waves --wiggle 3"), "Unknown option --wiggle"),
        (eve.photo("x" * 5000), "5000 characters"),
        (eve.photo(None), "Add a caption"),
    ]
    for send, words in cases:
        before = len(eve.replies())
        await send
        await tg.api.wait_for(lambda b=before, w=words: any(
            w.lower() in t.lower() for t in eve.replies()[b:]), 20)
    assert await tg.app.store.count_active() == 0

    # Chinese users are answered in Chinese.
    li = tg.person(41, lang="zh-hans")
    await li.photo(None)
    await li.wait_text("请为照片添加说明")

    ann = tg.person(42)
    await ann.photo(f"a flag waving {FAST}")
    await ann.wait_video()
    assert not eve.videos()


async def test_a_blocked_chat_or_a_deleted_status_message_hurts_no_other_chat(tg):
    gone, lost, ann = tg.person(43), tg.person(44), tg.person(45)
    await tg.app.lifecycle.set_paused(True)
    await gone.photo(f"a bird flying {FAST}")
    await lost.photo(f"a boat sailing {FAST}")
    await gone.wait_text("Queued")
    await lost.wait_text("Queued")
    tg.api.blocked.add(43)
    status = tg.api.of("sendMessage", chat_id=44)[0].result["result"]["message_id"]
    tg.api.deleted.add((44, status))
    await tg.app.lifecycle.set_paused(False)
    await ann.photo(f"a tree swaying {FAST}")
    await lost.wait_video()  # a new status message replaced the deleted one
    await ann.wait_video()
    assert not tg.api.of("sendVideo", chat_id=43)  # its first 403 stopped all sending there
    assert len([c for c in tg.api.of("sendMessage", chat_id=44) if c.result["ok"]]) == 2


async def test_files_over_the_download_limit_and_videos_over_the_upload_limit(
        api, tmp_path):
    harness = await start_harness(api, tmp_path / "data", FakeExecutor(),
                                  TELEGRAM_DOWNLOAD_LIMIT_MB=1, TELEGRAM_UPLOAD_LIMIT_MB=0.001)
    try:
        ann = harness.person(46)
        await ann.document(f"waves {FAST}", make_photo(160, 128), "big.jpg", "image/jpeg",
                           file_size=25_000_000)
        await ann.wait_text("This file is 23.8 MiB; the limit is 1 MiB")
        assert not api.of("getFile")  # refused before downloading anything
        await ann.photo(f"waves {FAST}")
        await ann.wait_text("does not fit the 0.001 MiB upload limit", 60)
        assert not ann.videos()
        job = (await harness.app.store.jobs_with_status(JobStatus.FAILED))[0]
        assert job.chat.upload_limit == int(0.001 * 2**20)
    finally:
        await stop_harness(harness)
