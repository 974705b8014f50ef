"""FLOPs per video, counted with torch's FlopCounterMode on the real architecture.

Counted on the meta device (shapes only: no weights, no arithmetic, so the full-size model at
the full 512p shape costs seconds on a laptop) or on any device holding a loaded UNet. Each
UNet call runs through the engine's own step cuts (engine/models/i2vgen_xl/step_cuts.py), so
what is counted is what the engine does, not a model of it. Attention is counted at the real
sequence lengths, never scaled from a smaller shape: its cost grows with the square of the
tokens.

FlopCounterMode counts matrix products, convolutions and attention (2 FLOPs per
multiply-add); elementwise work (norms, activations, the scheduler) is left out, as usual.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.shapes import Shape
from engine.models.i2vgen_xl.fast import Shortcuts, StepKind
from engine.models.i2vgen_xl.step_cuts import step_cuts

PROMPT_TOKENS = 77
PROMPTS_PER_VIDEO = 2  # the prompt and the negative prompt, encoded for every video


@dataclass(frozen=True)
class VideoFlops:
    """FLOPs of one video, by part."""

    encoders: int  # text encoder (both prompts), CLIP image encoder, VAE encode of the photo
    unet: int  # every denoising step
    decode: int  # VAE decode of every frame
    unet_calls: int

    @property
    def total(self) -> int:
        return self.encoders + self.unet + self.decode


@contextlib.contextmanager
def counted(device: torch.device) -> Iterator[FlopCounterMode]:
    """Count inside; off CUDA, attention through the math kernel, which the counter knows
    (it has no formula for the CPU's flash kernel)."""
    counter = FlopCounterMode(display=False)
    kernel = (contextlib.nullcontext() if device.type == "cuda"
              else sdpa_kernel([SDPBackend.MATH]))
    with torch.no_grad(), kernel, counter:
        yield counter


def unet_inputs(unet: Any, shape: Shape, doubled: bool, batch: int = 1,
                ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments the pipeline gives the UNet in one step (both guidance halves when
    `doubled`), as zeros of the right shapes on the UNet's device and dtype."""
    param = next(unet.parameters())
    like = dict(device=param.device, dtype=param.dtype)
    n = batch * (2 if doubled else 1)
    latent = (n, unet.config.in_channels, shape.frames, shape.height // 8, shape.width // 8)
    context = unet.config.cross_attention_dim
    kwargs = dict(
        encoder_hidden_states=torch.zeros(n, PROMPT_TOKENS, context, **like),
        fps=torch.full((n,), shape.fps, device=param.device),
        image_latents=torch.zeros(latent, **like),
        image_embeddings=torch.zeros(n, 1, context, **like),
        return_dict=False)
    return (torch.zeros(latent, **like), torch.tensor(999, device=param.device)), kwargs


def step_flops(unet: Any, kind: StepKind, inputs: tuple[tuple[Any, ...], dict[str, Any]],
               doubled: bool) -> int:
    """FLOPs of one UNet call of `kind`. A kind that reads a cache (a shallow DeepCache step,
    reused cross-attention) is preceded by the full step that fills it, which is not counted."""
    needs_cache = not kind.full or kind.cross_attention == "reuse"
    filler = StepKind(guided=kind.guided, full=True,
                      cross_attention="record" if kind.cross_attention == "reuse" else "live")
    plan = [filler, kind] if needs_cache else [kind]
    args, kwargs = inputs
    device = args[0].device
    flops = 0
    with step_cuts(unet, plan, doubled):
        for i in range(len(plan)):
            if i < len(plan) - 1:
                with torch.no_grad():
                    unet(*args, **kwargs)
                continue
            with counted(device) as counter:
                unet(*args, **kwargs)
            flops = int(counter.get_total_flops())
    return flops


def unet_flops(unet: Any, shortcuts: Shortcuts, shape: Shape, doubled: bool = True,
               memo: dict[tuple[Shape, StepKind], int] | None = None) -> tuple[int, int]:
    """UNet FLOPs of one video run with `shortcuts`, and the number of UNet calls. `memo`
    keeps each kind of step's count, shared between modes (a kind costs the same in all)."""
    memo = {} if memo is None else memo
    plan = shortcuts.plan(shortcuts.steps(shape.steps))
    inputs = unet_inputs(unet, shape, doubled)
    total = 0
    for kind, count in Counter(plan).items():
        if (shape, kind) not in memo:
            memo[shape, kind] = step_flops(unet, kind, inputs, doubled)
        total += memo[shape, kind] * count
    return total, len(plan)


def encoder_flops(parts: dict[str, Any], shape: Shape) -> int:
    """Prompt, image and first-frame encoders of one video."""
    text, image, vae = parts["text_encoder"], parts["image_encoder"], parts["vae"]
    device = next(vae.parameters()).device
    with counted(device) as counter:
        ids = torch.zeros(1, PROMPT_TOKENS, dtype=torch.long, device=device)
        for _ in range(PROMPTS_PER_VIDEO):
            text(ids, output_hidden_states=True)
        side = image.config.image_size  # 224 for the real model, whatever the video's size
        image(torch.zeros(1, 3, side, side, device=device, dtype=image.dtype))
        vae.encode(torch.zeros(1, 3, shape.height, shape.width, device=device,
                               dtype=vae.dtype))
    return int(counter.get_total_flops())


def decode_flops(vae: Any, shape: Shape) -> int:
    device = next(vae.parameters()).device
    latents = torch.zeros(shape.frames, vae.config.latent_channels, shape.height // 8,
                          shape.width // 8, device=device, dtype=vae.dtype)
    with counted(device) as counter:
        vae.decode(latents)
    return int(counter.get_total_flops())


def video_flops(parts: dict[str, Any], modes: dict[str, Shortcuts],
                shape: Shape) -> dict[str, VideoFlops]:
    """FLOPs per video of each mode, on the model `parts` (e.g. engine/models/i2vgen_xl/tiny.py's
    synthetic_components("meta"))."""
    encoders = encoder_flops(parts, shape)
    decode = decode_flops(parts["vae"], shape)
    doubled = shape.guidance > 1
    memo: dict[tuple[Shape, StepKind], int] = {}
    out = {}
    for name, shortcuts in modes.items():
        unet, calls = unet_flops(parts["unet"], shortcuts, shape, doubled, memo)
        out[name] = VideoFlops(encoders=encoders, unet=unet, decode=decode, unet_calls=calls)
    return out
