"""What says "made by AI" in the video itself, done on the worker before the MP4 is encoded:
a visible label in a corner of every frame (I2V_WATERMARK), and plain MP4 tags for tools
that read no Content Credentials. The signed C2PA manifest is the core's (bot/provenance/):
it signs the final file, so the workers hold no key.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.spec.params import GenParams

TEXT_HEIGHT = 0.045  # of the shorter side: small, still readable on a phone
MIN_TEXT_PX = 10
MARGIN = 0.025  # from the corner, of the shorter side
OPACITY = 0.65  # the picture shows through; white fill and a dark outline read anywhere
MAX_WIDTH = 0.5  # a long label is cut to half the frame, never over the whole picture


def label_frames(frames: np.ndarray, text: str) -> np.ndarray:
    """`frames` with `text` blended into their bottom-right corner; the same pixels in
    every frame, so a loop or an extension's seam never flickers. No text: unchanged.
    Drawn into `frames` itself when it is writable (the worker's own clip: copying a
    long 720p video for a corner would cost more than the drawing)."""
    if not text.strip():
        return frames
    count, height, width, _ = frames.shape
    colour, alpha, (top, left) = overlay(text.strip(), width, height)
    bottom, right = top + alpha.shape[0], left + alpha.shape[1]
    out = frames if frames.flags.writeable else frames.copy()
    corner = out[:, top:bottom, left:right].astype(np.float32)
    corner = corner * (1 - alpha) + colour * alpha
    out[:, top:bottom, left:right] = np.clip(np.rint(corner), 0, 255).astype(np.uint8)
    return out


@lru_cache(maxsize=16)
def overlay(text: str, width: int, height: int) -> tuple[np.ndarray, np.ndarray,
                                                         tuple[int, int]]:
    """The label drawn once for a frame size: colour (h x w x 3), alpha (h x w x 1), and
    where its top-left corner goes."""
    short = min(width, height)
    size = max(MIN_TEXT_PX, round(short * TEXT_HEIGHT))
    stroke = max(1, size // 8)
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (0, 0), text, font=font, stroke_width=stroke)
    box_w = min(math.ceil(right - left), int(width * MAX_WIDTH))
    box_h = min(math.ceil(bottom - top), height // 2)
    image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((-left, -top), text, font=font, fill=(255, 255, 255, 255),
                               stroke_width=stroke, stroke_fill=(20, 20, 20, 255))
    pixels = np.asarray(image, dtype=np.float32)
    margin = max(2, round(short * MARGIN))
    where = (max(0, height - margin - box_h), max(0, width - margin - box_w))
    return pixels[..., :3], pixels[..., 3:] / 255 * OPACITY, where


def ai_tags(params: GenParams) -> dict[str, str]:
    """The MP4's comment and description: who made it, for players and file managers."""
    model = params.card
    text = f"Made with AI: {model.title} ({model.name}), by i2v-bot"
    return {"comment": text, "description": text}
