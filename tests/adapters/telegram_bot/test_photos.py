"""Photos in, videos out: a private photo, a photo sent as a file, /animate in a group."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from bot.models import JobStatus
from engine.video import read_video
from tests.adapters.telegram_bot.conftest import (
    EDIT_INTERVALS,
    FAST,
    GROUP,
    shown_text,
    status_edits,
)
from tests.adapters.telegram_bot.fake_bot_api import FakeBotApi


def frames_of(api: FakeBotApi, call, tmp_path) -> np.ndarray:
    path = tmp_path / f"video-{id(call)}.mp4"
    path.write_bytes(api.video_bytes(call.files))
    frames, _ = read_video(path)
    return frames


async def test_a_private_photo_with_a_caption_comes_back_as_a_video(engine_tg, tmp_path):
    tg = engine_tg
    ann = tg.person(10)
    await ann.photo(f"a cat turning its head slowly --seed 7 {FAST} --steps 30")
    video = await ann.wait_video()
    frames = frames_of(tg.api, video, tmp_path)
    assert frames.shape == (8, 128, 128, 3)
    fields = video.fields
    assert fields["supports_streaming"] is True
    assert (fields["width"], fields["height"], fields["duration"]) == (128, 128, 1)
    assert "thumbnail" in fields and len(video.files) == 2
    caption = fields["caption"]
    assert caption.startswith("🎬 a cat turning its head slowly")
    assert "seed 7" in caption and "8 frames @ 8 fps" in caption and "30 steps" in caption
    buttons = [b["callback_data"] for row in fields["reply_markup"]["inline_keyboard"]
               for b in row]
    job_id = buttons[0].split(":")[1]
    assert buttons == [f"reroll:{job_id}", f"better:{job_id}", f"extend:{job_id}"]
    # One status message, edited in place from "checking" to queued, progress (with a live
    # preview as its photo from a quarter of the steps on), encoding, done.
    status = tg.api.of("sendMessage", chat_id=10)
    assert len(status) == 1 and "checking" in status[0].fields["text"]
    status_id = status[0].result["result"]["message_id"]
    await ann.wait_text("Done")
    calls = status_edits(tg.api, 10)
    assert all(c.fields["message_id"] == status_id for c in calls)
    edits = [shown_text(c) or "" for c in calls]
    assert edits[0].startswith("⏳ Queued: #1")
    assert any("Encoding" in e for e in edits)
    # A live preview, when one made it past the throttle, has the progress as its caption.
    assert all("step " in (shown_text(c) or "") for c in ann.previews())
    # Progress edits are throttled: some are shown, far fewer than the 30 steps.
    progress = [c for c, e in zip(calls, edits, strict=True) if "step " in e]
    assert 1 <= len(progress) < 30
    assert all(b.at - a.at >= EDIT_INTERVALS[0] - 0.05 for a, b in pairwise(progress))
    assert edits[-1].startswith("✅ Done")
    shown = [(e, c.method == "editMessageMedia" and tg.api.preview_of(c))
             for c, e in zip(calls, edits, strict=True)]
    assert len(shown) == len(set(shown))  # identical edits are skipped
    assert tg.api.of("sendChatAction", chat_id=10, action="upload_video")
    assert video.fields["reply_parameters"]["message_id"] < status_id
    # The menu was registered in both languages.
    menus = tg.api.of("setMyCommands")
    assert {c.fields.get("language_code") for c in menus} == {None, "zh"}
    assert "animate" in [c["command"] for c in menus[0].fields["commands"]]


async def test_a_photo_sent_as_a_file_is_used_uncompressed(tg, tmp_path):
    from tests.images import make_photo

    bob = tg.person(11)
    await bob.document(f"waves lapping on the shore {FAST}", make_photo(200, 150, "PNG"),
                       "beach.png", "image/png")
    frames = frames_of(tg.api, await bob.wait_video(), tmp_path)
    assert frames.shape == (8, 128, 128, 3)


async def test_animate_in_a_group_as_a_caption_and_as_a_reply(tg, tmp_path):
    ann = tg.person(12, chat=GROUP)
    cara = tg.person(13, chat=GROUP)
    await ann.photo(f"/animate@i2v_test_bot leaves falling gently {FAST}")
    assert frames_of(tg.api, await ann.wait_video(), tmp_path).shape[0] == 8
    # A photo for the people in the group, not for the bot, is left alone.
    plain = await ann.photo("look at my cat")
    await cara.text(f"/animate the cat yawning slowly {FAST}", reply_to=plain)
    second = await cara.wait_video(2)
    assert frames_of(tg.api, second, tmp_path).shape[0] == 8
    assert second.fields["reply_parameters"]["message_id"] != plain["message_id"]
    jobs = await tg.app.store.jobs_with_status(JobStatus.DONE, JobStatus.DELIVERED)
    assert sorted(j.params.prompt for j in jobs) == ["leaves falling gently",
                                                     "the cat yawning slowly"]
    owner = await tg.app.store.get_user(
        next(j for j in jobs if j.params.prompt.startswith("the cat")).user_id)
    assert owner.platform_id == "13"
