"""Wan 2.2 TI2V-5B's card.

24 fps, frame counts 4k+1 (the VAE folds 4 frames into one latent), sizes in multiples of 32
(16x VAE, 2x2 patches); 1280x704, 121 frames, 50 steps, guidance 5 is its model card's
setting. Batches of one: diffusers' WanImageToVideoPipeline encodes every photo of a batch
once per generator, so a batch of two would pair latents wrongly. Its UMT5 text encoder is
multilingual (its authors prompt it in Chinese and English), so prompts reach it as written;
its flow-matching sampler has no eta, and the seeds' recipes are I2VGen-XL's.
"""

from __future__ import annotations

from engine.spec.cards import ModelCard, Preset, WeightFiles, presets

CARD = ModelCard(
    name="wan",
    title="Wan 2.2 TI2V-5B",
    hub_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    license="Apache-2.0",
    needs="10.7 B parameters, 24 GB of weights (bf16, the VAE in fp32): cpu offload on a "
          "24 GB GPU",
    engine="engine.models.wan.engine:WanEngine",
    weights_setting="I2V_WAN_MODEL",
    files=WeightFiles(tiny="tiny-wan",
                      probes=("model_index.json", "transformer/config.json",
                              "text_encoder/config.json"),
                      download="over 20 GB"),
    presets=presets(
        Preset("preview", "480p", 49, 24, 20, 5.0),
        Preset("standard", "480p", 81, 24, 30, 5.0),
        Preset("high", "720p", 121, 24, 40, 5.0),
        Preset("max", "720p", 121, 24, 50, 5.0),
    ),
    resolutions={"480p": 632, "720p": 950},  # budgets of 832x480 and 1280x704
    multiple=32,
    frames=(17, 121),
    frame_step=4,
    fps=(8, 30),
    steps=(10, 100),
    guidance=(1.0, 10.0),
    # benchmarks/MODELS.md: 0.60 of I2VGen-XL's FLOPs per pixel-frame-step at 480p, 0.89 at
    # 720p (attention grows with the square of the tokens); the mean of its presets.
    cost_factor=0.74,
    max_batch=1,
    # The speed mode (engine/models/wan/fast.py): diffusers' TaylorSeer cache and guidance
    # on the first half of the steps: 0.415 (max) to 0.490 (preview) of stock's FLOPs per
    # video, mean 0.446 (benchmarks/MODELS.md), priced at 0.45.
    fast=True,
    fast_share=0.45,
    auto_dtype="bf16",
    aliases=("wan2.2", "wan22"),
)
