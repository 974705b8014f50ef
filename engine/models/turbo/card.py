"""FastWan 2.2 TI2V-5B's card: Wan 2.2 TI2V-5B's sizes and frame counts, three steps, no
guidance.

FastVideo distilled Wan 2.2 TI2V-5B with DMD into a generator that samples in three fixed
steps without classifier-free guidance (engine/models/turbo/dmd.py); the transformer, VAE
and UMT5 are the base model's architecture, so the weights, the memory and the grid are
Wan's (engine/models/wan/card.py). Steps and guidance are not settings here: the model was
trained for exactly those. FastVideo's own setting is 1280x704, 121 frames at 24 fps.
"""

from __future__ import annotations

from dataclasses import replace

from engine.models.wan.card import CARD as WAN
from engine.spec.cards import ModelCard, Preset, presets

CARD = ModelCard(
    name="turbo",
    title="FastWan 2.2 TI2V-5B (3 steps)",
    hub_id="FastVideo/FastWan2.2-TI2V-5B-FullAttn-Diffusers",
    license="Apache-2.0",
    needs="10.7 B parameters, 24 GB of weights (bf16, the VAE in fp32), as Wan 2.2: cpu "
          "offload on a 24 GB GPU",
    engine="engine.models.turbo.engine:TurboEngine",
    weights_setting="I2V_TURBO_MODEL",
    files=replace(WAN.files, tiny="tiny-turbo"),  # Wan's folder layout and download size
    presets=presets(
        Preset("preview", "480p", 49, 24, 3, 1.0),
        Preset("standard", "480p", 121, 24, 3, 1.0),
        Preset("high", "720p", 81, 24, 3, 1.0),
        Preset("max", "720p", 121, 24, 3, 1.0),
    ),
    # Wan's grid: the same VAE and patches, so the same sizes and frame counts.
    resolutions=WAN.resolutions,
    multiple=WAN.multiple,
    frames=WAN.frames,
    frame_step=WAN.frame_step,
    fps=WAN.fps,
    steps=(3, 3),
    guidance=(1.0, 1.0),
    # benchmarks/MODELS.md: FLOPs per pixel-frame-step over I2VGen-XL's, 0.82 (preview) to
    # 0.98 (max), the mean of its presets 0.89: with three steps the VAE decode is over half
    # of a video's FLOPs, so a step weighs more than Wan's (0.74).
    cost_factor=0.89,
    max_batch=1,
    auto_dtype="bf16",
    aliases=("fastwan", "fastwan2.2"),
)
