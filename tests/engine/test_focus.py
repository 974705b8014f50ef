"""--focus on synthetic photos: the subject's pixels are kept exactly, the background loses
its fine detail, and the subject is found (a face, else what stands out, else the middle)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from engine.focus import focus_subject, subject_box
from engine.images import find_face
from tests.images import gradient

ROOT = Path(__file__).resolve().parents[2]


def detail(pixels: np.ndarray) -> float:
    """High-frequency energy: the variance of the Laplacian of the grey image."""
    grey = pixels.astype(np.float32).mean(axis=2)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def striped_ball_on_grain(width: int = 480, height: int = 320) -> Image.Image:
    """A textured red ball in the upper right of a smooth background with fine grain."""
    rng = np.random.default_rng(0)
    grain = 10 * rng.standard_normal((height, width, 3))
    image = Image.fromarray((gradient(width, height) * 0.5 + 64 + grain).clip(0, 255)
                            .astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((300, 60, 420, 180), fill=(230, 60, 40))
    for y in range(70, 170, 8):
        draw.line((310, y, 410, y), fill=(20, 20, 20), width=2)
    return image


def test_the_subject_stays_exactly_and_the_background_loses_its_detail() -> None:
    photo = striped_ball_on_grain()
    focused, (left, top, right, bottom) = focus_subject(photo, strength=1.5)
    before, after = np.asarray(photo), np.asarray(focused)
    assert focused.size == photo.size
    assert left <= 300 and top <= 60 and right >= 420 and bottom >= 180  # the ball
    assert np.array_equal(before[top:bottom, left:right], after[top:bottom, left:right])
    corner = (slice(240, 320), slice(0, 200))  # far from the ball: only grain there
    assert detail(after[corner]) < detail(before[corner]) / 20
    stronger, _ = focus_subject(photo, strength=4)
    assert detail(np.asarray(stronger)[corner]) < detail(after[corner])


def test_a_face_is_the_subject_with_its_head_and_shoulders() -> None:
    portrait = Image.open(ROOT / "data/examples/portrait.jpg").convert("RGB")
    face = find_face(portrait)
    assert face is not None
    left, top, right, bottom = subject_box(portrait)
    assert left <= face[0] and top <= face[1] and right >= face[2] and bottom >= face[3]
    assert bottom - top > 2 * (face[3] - face[1])  # the shoulders too, not the face alone


def test_with_nothing_standing_out_the_middle_is_kept() -> None:
    flat = Image.fromarray(gradient(400, 300))
    assert subject_box(flat) == (80, 60, 320, 240)
