"""Wan's VAE decode, in temporal chunks when the whole clip would not fit in GPU memory.

Wan's VAE is causal in time: `AutoencoderKLWan` decodes one latent frame (four video frames)
at a time, each carrying a cache of the previous frame's features, and concatenates the
pieces on the device. Cutting the latents into chunks decoded apart would restart that cache
at every cut and change the frames there. So a chunk here is a run of latent frames decoded
with the same cache, exactly as the VAE's own loop does it (diffusers 0.42's
`AutoencoderKLWan._decode`), but each chunk becomes uint8 and leaves the GPU before the next:
the device then never holds the whole clip in fp32 (1.3 GB at 720p, 121 frames, twice while
it is concatenated), nor the float temporaries of its conversion to 8 bits. The frames are
the VAE's own, bit for bit (tests/engine/models/wan/test_decode.py). Spatial tiling
(`enable_tiling`, diffusers' own) stays the answer when even one latent frame's activations
do not fit; the engine turns it on with cpu offload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from engine.decode import to_pixels

FRAMES_PER_LATENT = 4  # the VAE's temporal scale: latent frame k > 0 is video frames 4k-3..4k


def denormalised(vae: Any, latents: torch.Tensor) -> torch.Tensor:
    """The pipeline's latents in the VAE's own scale, on its device and dtype."""
    shape = (1, vae.config.z_dim, 1, 1, 1)
    device = next(vae.parameters()).device
    latents = latents.to(device=device, dtype=vae.dtype)
    mean = torch.tensor(vae.config.latents_mean).view(shape).to(latents)
    std = torch.tensor(vae.config.latents_std).view(shape).to(latents)
    return latents * std + mean


def latent_chunk(frames: int | None) -> int | None:
    """Latent frames per chunk for a chunk of about `frames` video frames (None: all)."""
    return None if frames is None else max(1, frames // FRAMES_PER_LATENT)


@torch.inference_mode()
def decode(pipe: Any, latents: torch.Tensor, chunk: int | None = None) -> np.ndarray:
    """Latents (batch, channels, latent frames, h, w) -> frames (batch, frames, H, W, 3) as
    uint8 (floats only when they are not finite, for frames.to_uint8 to refuse), decoded
    `chunk` latent frames at a time (None: the VAE's own decode of the whole clip)."""
    vae = pipe.vae
    z = denormalised(vae, latents)
    whole = chunk is None or chunk >= z.shape[2] or vae.use_tiling or not _streamable(vae)
    pieces = [vae.decode(z, return_dict=False)[0]] if whole else _chunks(vae, z, chunk)
    frames = []
    for video in pieces:  # (batch, 3, frames, H, W) floats in [-1, 1]
        pixels = to_pixels(video.float())
        if pixels is None:
            return video.float().permute(0, 2, 3, 4, 1).cpu().numpy()
        frames.append(pixels.permute(0, 2, 3, 4, 1).cpu().numpy())
    return np.concatenate(frames, axis=1)


def _streamable(vae: Any) -> bool:
    """Whether this VAE has the causal decoder loop this module drives."""
    return all(hasattr(vae, name) for name in ("clear_cache", "post_quant_conv", "decoder",
                                                "_feat_map"))


def _chunks(vae: Any, z: torch.Tensor, chunk: int) -> Iterator[torch.Tensor]:
    """`AutoencoderKLWan._decode`'s loop, yielding every `chunk` latent frames."""
    from diffusers.models.autoencoders.autoencoder_kl_wan import unpatchify

    vae.clear_cache()
    try:
        x = vae.post_quant_conv(z)
        for start in range(0, x.shape[2], chunk):
            outs = []
            for i in range(start, min(start + chunk, x.shape[2])):
                vae._conv_idx = [0]
                outs.append(vae.decoder(x[:, :, i:i + 1], feat_cache=vae._feat_map,
                                        feat_idx=vae._conv_idx, first_chunk=i == 0))
            out = torch.cat(outs, 2)
            if vae.config.patch_size is not None:
                out = unpatchify(out, patch_size=vae.config.patch_size)
            yield torch.clamp(out, min=-1.0, max=1.0)
    finally:
        vae.clear_cache()
