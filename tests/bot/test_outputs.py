"""Outputs on disk: names, parameters beside each video, and retention."""

import os
import time

from bot.outputs import Outputs


def test_retention_deletes_only_files_older_than_the_setting(tmp_path):
    outputs = Outputs(tmp_path, retention_days=7)
    old = outputs.videos / "video_20260101_000000_aaaaaa.mp4"
    new = outputs.videos / "video_20260110_000000_bbbbbb.mp4"
    photo = outputs.save_input("aaaaaa", b"jpeg bytes")
    for path in (old, new):
        path.write_bytes(b"mp4")
    week_and_a_day = time.time() - 8 * 86400
    os.utime(old, (week_and_a_day, week_and_a_day))
    os.utime(photo, (week_and_a_day, week_and_a_day))
    assert outputs.prune() == 2
    assert not old.exists() and not photo.exists() and new.exists()


def test_zero_days_keeps_everything(tmp_path):
    outputs = Outputs(tmp_path, retention_days=0)
    path = outputs.videos / "video_old.mp4"
    path.write_bytes(b"mp4")
    os.utime(path, (0, 0))
    assert outputs.prune() == 0 and path.exists()
