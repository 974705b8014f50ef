"""Wan's speed mode (`--fast`): diffusers' TaylorSeer cache on the transformer, and guidance
on the first steps only.

Which of diffusers' cache hooks, and why TaylorSeer (Liu et al. 2025, arXiv 2503.06923) in
its "lite" form:
- Its schedule is fixed before the run: a full transformer pass on the first steps and then
  every `cache_interval` steps; in between, every block is skipped and the transformer's
  output (its last projection, `proj_out`) is extrapolated from the last full passes by a
  first-order Taylor step. So the compute of a video is known in advance and counted in
  FLOPs (benchmarks/model_flops.py), and a job's price follows it (the card's fast_share).
  FirstBlockCache, MagCache and SeaCache decide at run time from the real model's residuals:
  their compute depends on the weights, cannot be priced up front, and their thresholds (and
  MagCache's per-model ratios, shipped by diffusers for Flux only) can only be calibrated
  with the real weights on a GPU.
- Wan runs the prompt and the negative prompt as two calls per step, each in its own
  `cache_context` ("cond", "uncond"); the hook keeps one state per context, so both halves
  are cached apart. FasterCache's guidance reuse expects the two halves batched in one call;
  pyramid attention broadcast skips attention only (Wan's feed-forward layers, 14336 wide,
  still run every step).
- "Lite" keeps only `proj_out`'s output and its first difference: 27,280 tokens x 192
  values in fp32 at 720p, 121 frames, 21 MB a tensor, 84 MB for two orders and two
  contexts. The full form would keep the attention outputs of 30 blocks (27,280 x 3072 in
  bf16, 168 MB each), two attentions, two orders, two contexts: 40 GB, beside a 24 GB
  model. (Its default patterns, names ending in "attn", do not even match Wan's attn1 and
  attn2.)
- TI2V's first latent frame is the photo and its tokens run at timestep 0; the
  extrapolated output for them is replaced by the photo's latent anyway (the pipeline
  re-applies its first-frame mask on every step), so the cache cannot drift the first frame.

Guidance stops after `guided_fraction` of the steps (the negative prompt's call is skipped
from then on): Castillo et al., AAAI 2025 (arXiv 2312.12487) and Zhang et al. 2025 (arXiv
2506.08351) found the guided steps matter in the first part of sampling. It is done the
way diffusers documents dynamic guidance: a step-end callback sets the pipeline's guidance
scale to 1.

Calibrated on the full-size architecture on the meta device (benchmarks/model_flops.py runs
these very hooks call by call), for at most half of stock's FLOPs per video at every preset,
the decode included: a full pass every second step with guidance on half the steps leaves
the preview preset at 0.554; every third step with guidance throughout, at 0.578 (and max at
0.503); every third step with guidance on the first half: 0.490 (preview) to 0.415 (max).
What only a GPU with the real weights can settle: how far the video moves from stock's
(random weights make every video noise, so neither the interval nor the warm-up could be
tuned for quality here), and the wall-clock gain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WanShortcuts:
    """Which cuts a Wan run takes; STOCK takes none."""

    cache_interval: int = 1  # TaylorSeer: a full pass every N steps after the warm-up (1: off)
    warmup_fraction: float = 0.2  # full passes on this first fraction of the steps
    guided_fraction: float = 1.0  # guidance (the negative prompt's call) on this first part

    def __post_init__(self) -> None:
        if self.cache_interval < 1:
            raise ValueError("cache_interval must be at least 1")
        if not 0 < self.guided_fraction <= 1 or not 0 <= self.warmup_fraction <= 1:
            raise ValueError("guided_fraction must be in (0, 1], warmup_fraction in [0, 1]")

    def guided_steps(self, steps: int) -> int:
        """How many first steps keep guidance."""
        return max(1, round(steps * self.guided_fraction))

    def cache_config(self, steps: int) -> Any | None:
        """diffusers' TaylorSeerCacheConfig for a run of `steps` steps; None: no cache. The
        last step is always a full pass: it makes the clean latent the decoder sees."""
        if self.cache_interval == 1:
            return None
        import torch
        from diffusers import TaylorSeerCacheConfig

        return TaylorSeerCacheConfig(
            cache_interval=self.cache_interval,
            disable_cache_before_step=max(1, round(steps * self.warmup_fraction)),
            disable_cache_after_step=steps - 1, max_order=1,
            taylor_factors_dtype=torch.float32, use_lite_mode=True)

    def describe(self) -> str:
        parts = []
        if self.cache_interval > 1:
            parts.append(f"TaylorSeer lite, a full pass every {self.cache_interval} steps "
                         f"after the first {self.warmup_fraction:.0%}")
        if self.guided_fraction < 1:
            parts.append(f"guidance on the first {self.guided_fraction:.0%} of the steps")
        return "; ".join(parts) or "stock"


STOCK = WanShortcuts()
# The speed mode: a full pass every third step after the first fifth (and on the last),
# guidance on the first half: 0.40 of stock's transformer FLOPs, 0.415 (max) to 0.490
# (preview) of a whole video's, the decode unchanged (benchmarks/MODELS.md).
FAST = WanShortcuts(cache_interval=3, warmup_fraction=0.2, guided_fraction=0.5)


@contextlib.contextmanager
def cached(transformer: Any, shortcuts: WanShortcuts, steps: int) -> Iterator[None]:
    """The transformer with the cache hooks for one pipeline call. Applied per call and
    removed after, so that a stock job on the same loaded model runs untouched, and a call
    that fails half-way leaves no cache state for the next."""
    config = shortcuts.cache_config(steps)
    if config is None:
        yield
        return
    transformer.enable_cache(config)
    try:
        yield
    finally:
        transformer.disable_cache()
