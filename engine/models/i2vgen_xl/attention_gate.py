"""T-GATE for the I2VGen-XL UNet: cross-attention computed until it has converged, then reused.

Zhang, Liu et al. ("Cross-Attention Makes Inference Cumbersome in Text-to-Image Diffusion
Models", 2024) find that cross-attention outputs settle within the first steps. At the gate
each cross-attention layer keeps the mean of its two guidance halves (as their code does);
from then on every cross-attention layer returns what it kept, and since the two halves would
now be the same, the engine stops running the unconditional one (step_cuts.py).

In I2VGen-XL the cross-attention context is the prompt, the CLIP image embedding and the
photo's latent; the UNet's self- and temporal attention are left alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch

from engine.models.i2vgen_xl.fast import CrossAttention


class GatedCrossAttention:
    """Stands in for one cross-attention layer's processor while a gated call runs."""

    def __init__(self, inner: Any, mode: Callable[[], CrossAttention],
                 doubled: Callable[[], bool]) -> None:
        self.inner = inner  # the layer's own processor (plain, fused or otherwise)
        self.mode = mode
        self.doubled = doubled  # whether this call's batch holds both guidance halves
        self.kept: torch.Tensor | None = None

    def __call__(self, attn: Any, hidden_states: torch.Tensor,
                 encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        mode = self.mode()
        if mode == "reuse" and self.kept is not None:
            return self.kept
        out = self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, **kwargs)
        if mode == "record":
            if self.doubled():
                uncond, cond = out.chunk(2)
                self.kept = (uncond + cond) / 2
            else:
                self.kept = out
        return out


def cross_attention_layers(unet: torch.nn.Module) -> list[Any]:
    """The UNet's attention modules that attend to the context (not to the video itself)."""
    return [m for m in unet.modules()
            if getattr(m, "is_cross_attention", False) and hasattr(m, "processor")]


@contextlib.contextmanager
def gated(unet: torch.nn.Module, mode: Callable[[], CrossAttention],
          doubled: Callable[[], bool]) -> Iterator[list[GatedCrossAttention]]:
    """Every cross-attention layer gated for the duration of one pipeline call."""
    layers = cross_attention_layers(unet)
    originals = [layer.processor for layer in layers]
    gates = [GatedCrossAttention(p, mode, doubled) for p in originals]
    for layer, gate in zip(layers, gates, strict=True):
        layer.processor = gate
    try:
        yield gates
    finally:
        for layer, original in zip(layers, originals, strict=True):
            layer.processor = original
