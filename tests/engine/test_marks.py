"""The visible label and the plain MP4 tags that say a model made the video."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from engine.effects import finish
from engine.marks import ai_tags, label_frames
from engine.spec.params import GenParams
from engine.video import encode_mp4


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """top, left, bottom, right of the pixels that differ in any frame."""
    rows, cols = np.nonzero(np.any(before != after, axis=(0, 3)))
    assert len(rows), "nothing was drawn"
    return rows.min(), cols.min(), rows.max() + 1, cols.max() + 1


def test_the_label_sits_in_the_corner_of_every_frame_sized_to_the_video():
    heights = []
    for width, height in ((320, 192), (1280, 768)):
        frames = np.random.default_rng(0).integers(0, 256, (3, height, width, 3), np.uint8)
        labelled = label_frames(frames.copy(), "AI")
        top, left, bottom, right = changed_box(frames, labelled)
        assert top >= height * 0.8 and left >= width * 0.8  # bottom-right, off the edge
        assert bottom < height and right < width
        heights.append(bottom - top)
    assert heights[1] > 3 * heights[0]  # four times the picture, about four times the text


def test_the_label_reads_on_white_and_on_black_and_lets_the_picture_through():
    for background in (0, 255):
        frames = np.full((1, 384, 640, 3), background, np.uint8)
        labelled = label_frames(frames.copy(), "AI")
        top, left, bottom, right = changed_box(frames, labelled)
        corner = labelled[0, top:bottom, left:right].astype(int)
        # White letters show on black, their dark outline on white; neither fully covers
        # the picture (semi-transparent).
        if background == 0:
            assert 140 < corner.max() < 255
        else:
            assert 0 < corner.min() < 110


def test_no_label_leaves_the_frames_alone_and_an_extension_is_labelled_once():
    frames = np.full((4, 96, 128, 3), 100, np.uint8)
    assert label_frames(frames, "") is frames
    params = GenParams(prompt="waves", frames=4, fps=8, steps=10)
    first, _ = finish(frames.copy(), params, label="AI")
    again, _ = finish(first.copy(), params)  # already labelled: not drawn twice by default
    assert np.array_equal(first, again)


def test_the_mp4_says_in_its_tags_that_a_model_made_it(tmp_path: Path):
    params = GenParams(prompt="waves", model="wan", frames=17, fps=24, steps=10,
                       guidance=5.0, resolution="480p")
    video = encode_mp4(np.full((4, 64, 64, 3), 80, np.uint8), 8, tmp_path / "v.mp4",
                       tags=ai_tags(params))
    printed = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i",
                              str(video.path)], capture_output=True, text=True).stderr
    assert "comment         : Made with AI: Wan 2.2 TI2V-5B (wan)" in printed
    assert "description     : Made with AI" in printed
