"""Frames out: H.264 MP4s that decode back to what went in, within a byte budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.spec.errors import InternalError, Rejected
from engine.video import encode_mp4, read_video


def moving_square(frames: int, height: int, width: int) -> np.ndarray:
    video = np.full((frames, height, width, 3), 40, np.uint8)
    for i in range(frames):
        x = i * (width - 16) // max(frames - 1, 1)
        video[i, height // 2 - 8: height // 2 + 8, x: x + 16] = (250, 200, 30)
    return video


def test_round_trip(tmp_path: Path) -> None:
    frames = moving_square(12, 96, 160)
    video = encode_mp4(frames, 8, tmp_path / "out.mp4")
    assert video.path == tmp_path / "out.mp4" and video.path.is_file()
    assert (video.width, video.height, video.frames, video.fps) == (160, 96, 12, 8)
    assert video.duration == pytest.approx(1.5)
    assert video.size_bytes == video.path.stat().st_size
    back, fps = read_video(video.path)
    assert back.shape == frames.shape and fps == 8
    assert np.abs(back.astype(int) - frames.astype(int)).mean() < 3  # crf 18: near lossless
    assert video.poster == tmp_path / "out.jpg"
    with Image.open(video.poster) as poster:
        assert poster.format == "JPEG" and poster.size == (160, 96)
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_stream_is_h264_yuv420p_with_faststart(tmp_path: Path) -> None:
    import imageio_ffmpeg

    video = encode_mp4(moving_square(8, 64, 64), 12, tmp_path / "v.mp4")
    reader = imageio_ffmpeg.read_frames(str(video.path))
    meta = next(reader)
    reader.close()
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    data = video.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # index first: plays while loading


def test_odd_sizes_are_made_even(tmp_path: Path) -> None:
    video = encode_mp4(moving_square(8, 65, 99), 8, tmp_path / "odd.mp4")
    assert (video.width, video.height) == (98, 64)
    back, _ = read_video(video.path)
    assert back.shape == (8, 64, 98, 3)


def test_byte_budget_is_met_and_still_decodes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (16, 128, 128, 3), dtype=np.uint8)  # incompressible
    free = encode_mp4(noise, 8, tmp_path / "free.mp4")
    budget = free.size_bytes // 4
    video = encode_mp4(noise, 8, tmp_path / "fit.mp4", max_bytes=budget)
    assert video.size_bytes <= budget
    back, fps = read_video(video.path)
    assert back.shape == noise.shape and fps == 8


def test_headroom_keeps_room_free_and_the_message_names_the_platforms_limit(tmp_path: Path
                                                                           ) -> None:
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (16, 128, 128, 3), dtype=np.uint8)
    limit = encode_mp4(noise, 8, tmp_path / "free.mp4").size_bytes // 3
    room = limit // 4  # what the signature added afterwards may take
    video = encode_mp4(noise, 8, tmp_path / "fit.mp4", max_bytes=limit, headroom=room)
    assert video.size_bytes <= limit - room
    with pytest.raises(Rejected) as info:
        encode_mp4(noise, 8, tmp_path / "x.mp4", max_bytes=2**20 // 100, headroom=2**20 // 200)
    assert info.value.params["limit_mib"] == "0.01"  # the limit people know, not the budget


def test_impossible_budget_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(Rejected) as info:
        encode_mp4(moving_square(8, 64, 64), 8, tmp_path / "x.mp4", max_bytes=1000)
    assert info.value.code == "video_too_large"
    assert "fewer frames" in info.value.message
    assert not (tmp_path / "x.mp4").exists() and not list(tmp_path.glob(".*"))


def test_bad_frames_are_an_internal_error(tmp_path: Path) -> None:
    with pytest.raises(InternalError):
        encode_mp4(np.zeros((4, 64, 64, 3), np.float32), 8, tmp_path / "x.mp4")
