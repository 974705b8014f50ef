"""Loops, smoother motion and extensions: what happens to the frames after the model."""

from __future__ import annotations

import numpy as np
import pytest

from engine.effects import CROSSFADE_FRAMES, crossfade_loop, join, last_frame, ping_pong, smooth
from engine.video import encode_mp4, read_video


def moving_bar(count: int, width: int = 128, height: int = 96) -> np.ndarray:
    """A white bar moving right one step a frame: frames differ, motion is clear."""
    frames = np.zeros((count, height, width, 3), np.uint8)
    for i in range(count):
        frames[i, :, i * 6:i * 6 + 20] = 255
    return frames


def test_ping_pong_goes_forward_then_back_to_the_first_frame():
    frames = moving_bar(8)
    looped = ping_pong(frames)
    assert len(looped) == 15
    assert np.array_equal(looped[0], looped[-1])  # the end meets the start
    assert np.array_equal(looped[7], frames[7]) and np.array_equal(looped[8], frames[6])


def test_a_crossfade_loop_blends_its_end_into_its_start():
    frames = moving_bar(16)
    looped = crossfade_loop(frames)
    assert len(looped) == 16 - CROSSFADE_FRAMES
    # The first frame is mostly the frame after the new end, a little of the old start.
    weight = 1 / (CROSSFADE_FRAMES + 1)
    expected = np.rint((1 - weight) * frames[12].astype(float) + weight * frames[0])
    assert np.abs(looped[0].astype(float) - expected).max() <= 1
    assert np.array_equal(looped[-1], frames[11])  # ...so looping steps 11 -> "12"
    assert np.array_equal(looped[CROSSFADE_FRAMES], frames[CROSSFADE_FRAMES])


def test_an_extension_joins_without_repeating_the_seam_frame():
    before, clip = moving_bar(8), moving_bar(8)[::-1].copy()
    clip[0] = before[-1]  # the model's first frame is the photo it was given
    joined = join(before, clip)
    assert len(joined) == 8 + 8 - 1
    assert np.array_equal(joined[:8], before)
    assert not np.array_equal(joined[8], joined[7])  # no frame shown twice at the seam
    assert np.array_equal(joined[-1], clip[-1])
    with pytest.raises(Exception, match="cannot join"):
        join(before, moving_bar(8, width=64))


def test_smooth_triples_the_frame_rate_and_keeps_the_duration(tmp_path):
    frames = moving_bar(16)
    smooth_frames = smooth(frames, 8, 24)
    assert smooth_frames.shape == (48, 96, 128, 3)
    # New frames between two old ones sit between them: the bar is interpolated.
    bar = [int(np.argmax(f[0, :, 0] > 128)) for f in smooth_frames[:9]]
    assert bar == sorted(bar) and len(set(bar)) > 3
    video = encode_mp4(smooth_frames, 24, tmp_path / "smooth.mp4", max_bytes=200_000)
    assert (video.frames, video.fps, video.duration) == (48, 24, 2.0)
    assert video.size_bytes <= 200_000
    decoded, fps = read_video(video.path)
    assert decoded.shape[0] == 48 and fps == 24
    assert np.abs(last_frame(video.path).astype(int) - decoded[-1]).max() == 0
