"""Decoded frames to 8 bits where the frames are, for every model's VAE decode.

The pipelines' own path decodes, casts the whole video to fp32, copies it to the host as
floats and leaves the conversion to uint8 to a pass over those floats on the CPU. Here the
same arithmetic (x * 0.5 + 0.5, clamp, x 255, round half to even) runs on the device, so the
frames come out identical while a quarter of the bytes cross to the host and the CPU does
nothing. Frames that are not finite (fp16 overflow) are handed back as floats, for
engine/frames.py to refuse with its usual advice.
"""

from __future__ import annotations

import torch


def to_pixels(images: torch.Tensor) -> torch.Tensor | None:
    """Decoded floats in [-1, 1] -> uint8 on their device, by the pipelines' own arithmetic;
    None when they are not all finite."""
    if not torch.isfinite(images).all():
        return None
    return ((images * 0.5 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
