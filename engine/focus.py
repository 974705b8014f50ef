"""`--focus`: keep the subject sharp and blur the rest of the photo before the model sees
it, so that the motion happens on the subject (the original app's first tip).

The subject is the largest face (engine/images.py) widened to head and shoulders; without
a face, the most salient region by the spectral residual method (Hou and Zhang, CVPR 2007:
what stands out of a photo's average spectrum); when nothing stands out, the middle of
the photo. Inside that box the pixels stay exactly as they were; outside, a Gaussian blur
fades in over a margin so that no seam shows.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from PIL import Image, ImageFilter

from engine.images import Box, find_face

logger = logging.getLogger(__name__)

SALIENCY_SIDE = 64  # the spectral residual is computed on a copy this big
WORK_SIDE = 2048  # larger photos are reduced first: every model runs far below this
CENTRE = 0.6  # the centre box's share of each side, when nothing stands out
SALIENT_MIN, SALIENT_MAX = 0.04, 0.8  # a salient box outside these shares is not a subject
# Saliency peaks inside an object's outline: its box is widened by this share of each side.
SALIENT_MARGIN = 0.15


def focus_subject(image: Image.Image, strength: float) -> tuple[Image.Image, Box]:
    """The photo with everything but its subject blurred, and the subject's box. `strength`
    is the blur radius in percent of the photo's shorter side."""
    if max(image.size) > WORK_SIDE:
        image = image.reduce(-(-max(image.size) // WORK_SIDE))
    box = subject_box(image)
    radius = max(0.5, strength / 100 * min(image.size))
    blurred = image.filter(ImageFilter.GaussianBlur(radius))
    mask = _mask(image.size, box, feather=2 * radius)
    return Image.composite(image, blurred, mask), box


def subject_box(image: Image.Image) -> Box:
    face = find_face(image)
    if face is not None:
        return _head_and_shoulders(face, image.size)
    salient = _salient_box(image)
    if salient is not None:
        return salient
    width, height = image.size
    margin_x, margin_y = round(width * (1 - CENTRE) / 2), round(height * (1 - CENTRE) / 2)
    return margin_x, margin_y, width - margin_x, height - margin_y


def _head_and_shoulders(face: Box, size: tuple[int, int]) -> Box:
    left, top, right, bottom = face
    w, h = right - left, bottom - top
    width, height = size
    return (max(0, left - w), max(0, round(top - h / 2)), min(width, right + w),
            min(height, bottom + 3 * h))


def _salient_box(image: Image.Image) -> Box | None:
    """The bounding box of the clearly salient pixels, or None when there are none or they
    are spread over nearly the whole photo."""
    grey = np.asarray(image.convert("L").resize((SALIENCY_SIDE, SALIENCY_SIDE),
                                                Image.Resampling.BILINEAR), np.float32)
    # Mirrored so that the FFT's wrap-around joins matching edges: a photo's bright top
    # meeting its dark bottom would otherwise stand out as an edge of its own.
    pad = SALIENCY_SIDE // 2
    spectrum = np.fft.fft2(np.pad(grey, pad, mode="reflect"))
    log_amplitude = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    saliency = cv2.GaussianBlur(saliency.astype(np.float32), (0, 0), 2.5)
    saliency = saliency[pad:pad + SALIENCY_SIDE, pad:pad + SALIENCY_SIDE]
    ys, xs = np.nonzero(saliency > 3 * saliency.mean())
    if len(xs) == 0:
        return None
    width, height = image.size
    sx, sy = width / SALIENCY_SIDE, height / SALIENCY_SIDE
    left, top, right, bottom = xs.min() * sx, ys.min() * sy, (xs.max() + 1) * sx, \
        (ys.max() + 1) * sy
    share = (right - left) * (bottom - top) / (width * height)
    if not SALIENT_MIN <= share <= SALIENT_MAX:
        return None
    dx, dy = (right - left) * SALIENT_MARGIN, (bottom - top) * SALIENT_MARGIN
    return (max(0, int(left - dx)), max(0, int(top - dy)), min(width, round(right + dx)),
            min(height, round(bottom + dy)))


def _mask(size: tuple[int, int], box: Box, feather: float) -> Image.Image:
    """255 inside the box (the photo as it is), falling to 0 over `feather` pixels
    outside it (the blurred photo)."""
    width, height = size
    left, top, right, bottom = box

    def ramp(n: int, lo: int, hi: int) -> np.ndarray:
        at = np.arange(n, dtype=np.float32)
        outside = np.maximum(lo - at, 0) + np.maximum(at - (hi - 1), 0)
        return np.clip(1 - outside / max(feather, 1.0), 0, 1)

    mask = np.minimum.outer(ramp(height, top, bottom), ramp(width, left, right))
    return Image.fromarray(np.round(mask * 255).astype(np.uint8), "L")
