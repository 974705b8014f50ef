"""What people read: captions that fit, progress bars, Chinese where asked."""

from pathlib import Path

from bot.models import EventKind, Job, JobEvent, JobStatus, VideoResult
from bot.texts import error_text, language, result_caption, status_text
from engine.errors import UserError
from engine.params import GenParams


def job(prompt: str) -> Job:
    params = GenParams.from_preset("standard", prompt, seed=42, width=640, height=384)
    return Job(id="abc234", user_id=1, platform="test", chat={}, status=JobStatus.DONE,
               caption=prompt, params=params, cost=100, input_path=Path("x"), attempts=1,
               created_at=0.0, started_at=10.0, finished_at=41.0)


RESULT = VideoResult(path=Path("v.mp4"), poster=Path("v.jpg"), params_path=Path("v.json"),
                     width=640, height=384, frames=16, fps=8, duration=2.0, size_bytes=1000)


def test_the_result_caption_names_every_parameter_and_fits_the_limit():
    caption = result_caption(job("a cat turning its head"), RESULT)
    for part in ("a cat turning its head", "preset standard", "seed 42", "640x384",
                 "16 frames @ 8 fps", "50 steps", "guidance 9.0", "31 s", "1 credits",
                 "job abc234"):
        assert part in caption
    long = result_caption(job("slowly " * 140), RESULT, limit=1024)  # 980 characters
    assert len(long) <= 1024 and "…" in long and "seed 42" in long


def test_status_lines_show_place_progress_and_chinese():
    queued = JobEvent(EventKind.QUEUED, job("waves"), position=3, eta_seconds=95)
    assert "#3 in line, about 2 min to wait" in status_text(queued)
    progress = JobEvent(EventKind.PROGRESS, job("waves"), language="zh", step=25,
                        total_steps=50)
    assert "第 25/50 步" in status_text(progress) and "▰▰▰▰▰▰▱▱▱▱▱▱" in status_text(progress)


def test_languages_and_translated_errors():
    assert language("zh-hans") == language("zh-TW") == "zh"
    assert language("de") == language(None) == "en"
    err = UserError("out_of_range", "frames must be between 8 and 32 (got 99).", name="frames",
                    lo=8, hi=32, value=99)
    assert error_text(err, "zh") == "frames 必须在 8 到 32 之间（收到 99）。"
    assert error_text(UserError("no_translation", "Plain English."), "zh") == "Plain English."
