"""I2VGen-XL's VAE decode: its 2-D VAE decodes the video frame by frame, in chunks."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.decode import to_pixels


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


@torch.inference_mode()
def decode_stills(pipe: Any, latents: torch.Tensor) -> torch.Tensor:
    """Single latent frames (n, channels, h, w) -> images (n, 3, H, W), floats in [-1, 1]:
    a preview's decode, the same arithmetic as `decode_frames`, one frame at a time (a
    batch's previews never need more memory than one frame's)."""
    vae = pipe.vae
    latents = 1 / vae.config.scaling_factor * latents
    return torch.cat([vae.decode(one.to(vae.dtype)).sample.float()
                      for one in latents.split(1)])
