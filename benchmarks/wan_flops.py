"""FLOPs of Wan 2.2 TI2V videos (and FastWan's, the same architecture), counted on the meta
device: the transformer through the engine's own cache hooks, UMT5, the VAE. Shared by the
model table (model_flops.py), the runners' FLOP column and the CPU timing (wan_cpu.py)."""

from __future__ import annotations

from typing import Any

import torch

from benchmarks.flops import counted
from benchmarks.shapes import Shape
from engine.models.wan.engine import MAX_TOKENS
from engine.models.wan.fast import STOCK as WAN_STOCK
from engine.models.wan.fast import WanShortcuts, cached
from engine.models.wan.tiny import wan_components

META = torch.device("meta")


def _latent(shape: Shape) -> tuple[int, int, int]:
    """Latent frames, height and width of a Wan TI2V video (4x in time, 16x in space)."""
    return (shape.frames - 1) // 4 + 1, shape.height // 16, shape.width // 16


def wan_denoiser_flops(transformer: Any, shape: Shape,
                       shortcuts: WanShortcuts = WAN_STOCK) -> int:
    """The transformer's FLOPs per video of `shape`: each step calls it for the prompt and,
    while guided, for the negative prompt, each call in its cache context as the pipeline
    makes it. With a cache (the speed mode) every call runs through diffusers' hooks, so a
    step they skip counts what it really costs. `transformer` may live on the meta device."""
    frames, h, w = _latent(shape)
    tokens = frames * (h // 2) * (w // 2)
    device = next(transformer.parameters()).device
    like = dict(device=device, dtype=transformer.dtype)
    inputs = dict(hidden_states=torch.zeros(1, 48, frames, h, w, **like),
                  timestep=torch.zeros(1, tokens, device=device),
                  encoder_hidden_states=torch.zeros(1, MAX_TOKENS,
                                                    transformer.config.text_dim, **like),
                  return_dict=False)
    guided = shortcuts.guided_steps(shape.steps) if shape.guidance > 1 else 0
    if shortcuts.cache_config(shape.steps) is None:  # every call alike: count one
        with counted(device) as counter:
            transformer(**inputs)
        return int(counter.get_total_flops()) * (shape.steps + guided)
    with cached(transformer, shortcuts, shape.steps), counted(device) as counter:
        for step in range(shape.steps):
            for context in ("cond", "uncond")[:1 + (step < guided)]:
                with transformer.cache_context(context):
                    transformer(**inputs)
    return int(counter.get_total_flops())


def wan_video_flops(parts: dict[str, Any], shape: Shape,
                    shortcuts: WanShortcuts = WAN_STOCK) -> tuple[int, int, int]:
    """(encoders, transformer, decode) FLOPs of one Wan TI2V video of `shape`."""
    vae = parts["vae"]
    frames, h, w = _latent(shape)
    with counted(META) as counter:
        vae.encode(torch.zeros(1, 3, 1, shape.height, shape.width, device=META))
    # The prompt, and the negative prompt when guided, through UMT5 (see umt5_flops).
    prompts = 2 if shape.guidance > 1 else 1
    encoders = int(counter.get_total_flops()) + prompts * parts["text_flops"]
    with counted(META) as counter:
        vae.decode(torch.zeros(1, 48, frames, h, w, device=META))
    return (encoders, wan_denoiser_flops(parts["transformer"], shape, shortcuts),
            int(counter.get_total_flops()))


def umt5_flops() -> int:
    """One 512-token prompt through UMT5-XXL. Its attention bias calls .item(), which the
    meta device cannot do: one full-width layer is counted on the CPU (with a small
    vocabulary: the embedding is a lookup, no FLOPs) and multiplied by the 24 layers."""
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(vocab_size=512, d_model=4096, d_kv=64, d_ff=10240, num_layers=1,
                        num_heads=64, relative_attention_num_buckets=32,
                        relative_attention_max_distance=128, feed_forward_proj="gated-gelu")
    layer = UMT5EncoderModel(config).eval()
    ids = torch.zeros(1, MAX_TOKENS, dtype=torch.long)
    with counted(torch.device("cpu")) as counter:
        layer(ids, torch.ones_like(ids))
    return 24 * int(counter.get_total_flops())


def wan_parts() -> dict[str, Any]:
    """Wan 2.2 TI2V-5B's released architecture on the meta device (FastWan's is the same)."""
    return {**wan_components("synthetic", META, torch.bfloat16), "text_flops": umt5_flops()}
