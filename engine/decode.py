"""The VAE decode, with the conversion to 8-bit frames done where the frames are.

The pipeline's own path decodes, casts the whole video to fp32, copies it to the host as
floats and leaves the conversion to uint8 to a pass over those floats on the CPU. Here the
same arithmetic (x * 0.5 + 0.5, clamp, x 255, round half to even) runs on the device, so the
frames come out identical while a quarter of the bytes cross to the host and the CPU does
nothing. Frames that are not finite (fp16 overflow) are handed back as floats, for
engine/frames.py to refuse with its usual advice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def to_pixels(images: torch.Tensor) -> torch.Tensor | None:
    """Decoded floats in [-1, 1] -> uint8 on their device, by the pipelines' own arithmetic;
    None when they are not all finite."""
    if not torch.isfinite(images).all():
        return None
    return ((images * 0.5 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)


@torch.inference_mode()
def decode_frames(pipe: Any, latents: torch.Tensor, chunk: int | None = None) -> np.ndarray:
    """Latents (batch, channels, frames, h, w) -> frames (batch, frames, H, W, 3) as uint8,
    decoded `chunk` frames at a time (None: all at once)."""
    vae = pipe.vae
    # The pipeline's own expression: `1 / s * x` rounds differently from `x / s`.
    latents = 1 / vae.config.scaling_factor * latents
    batch, channels, frames, height, width = latents.shape
    flat = latents.permute(0, 2, 1, 3, 4).reshape(batch * frames, channels, height, width)
    step = chunk or flat.shape[0]
    pieces = []
    for i in range(0, flat.shape[0], step):
        images = vae.decode(flat[i:i + step].to(vae.dtype)).sample.float()
        pixels = to_pixels(images)
        if pixels is None:
            floats = images.permute(0, 2, 3, 1).cpu().numpy()
            return floats[None]  # frames.to_uint8 says what went wrong
        pieces.append(pixels.permute(0, 2, 3, 1))
    video = torch.cat(pieces).reshape(batch, frames, *pieces[0].shape[1:])
    return video.cpu().numpy()
