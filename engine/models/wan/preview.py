"""Wan's previews: the last latent frame of the clean flow prediction, decoded alone.

The pipeline steps latents of (batch, channels, latent frames, h, w); the first latent frame
is the photo (TI2V puts it back before every call), so the last one shows where the video
goes. Wan's causal VAE decodes a lone latent frame as it decodes a clip's first: one frame,
for about a quarter of what a four-frame chunk of the clip costs.
"""

from __future__ import annotations

from typing import Any

import torch

from engine.models.wan.decode import denormalised
from engine.previews import flow_x0


def last_latent_frame(scheduler: Any, v: torch.Tensor, timestep: Any, sample: torch.Tensor,
                      index: int) -> torch.Tensor:
    """x0 = x_t - sigma_t v of the last latent frame; sigma_t is the scheduler's sigma of
    this step (UniPC's flow sigmas, or any flow-matching scheduler's)."""
    return flow_x0(sample[:, :, -1:], v[:, :, -1:], scheduler.sigmas[index])


@torch.inference_mode()
def decode_still(pipe: Any, latents: torch.Tensor) -> torch.Tensor:
    """Latents (batch, channels, 1, h, w) -> images (batch, 3, H, W), floats in [-1, 1],
    denormalised as the pipeline's own decode does."""
    images = pipe.vae.decode(denormalised(pipe.vae, latents), return_dict=False)[0]
    return images[:, :, 0].float()
