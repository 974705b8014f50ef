"""The video models the engine can run, as cards: what each accepts and what it costs.

A card is plain data (no torch: the core reads it to check captions and price jobs); it
names the engine class that runs the model as "module:Class", imported only on a worker.
Adding a model is one engine module (a subclass of engine.generator.Engine) and one card.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import Rejected


@dataclass(frozen=True)
class Preset:
    name: str
    resolution: str
    frames: int
    fps: int
    steps: int
    guidance: float  # (each preset's description is in the text catalogue, translated)


def _presets(*presets: Preset) -> dict[str, Preset]:
    return {p.name: p for p in presets}


@dataclass(frozen=True)
class ModelCard:
    name: str  # what users type after --model
    title: str
    hub_id: str  # the default weights
    license: str
    needs: str  # its size and GPU memory, in words, for `i2vbot doctor`
    engine: str  # "module:Class" of its engine.generator.Engine subclass
    presets: Mapping[str, Preset]
    # A resolution is a pixel budget of about side x side, shaped like the photo.
    resolutions: Mapping[str, int]
    multiple: int  # width and height are multiples of this (VAE scale x patch size)
    frames: tuple[int, int]
    frame_step: int  # frames must be 1 + k * frame_step (1: any count)
    fps: tuple[int, int]
    steps: tuple[int, int]
    guidance: tuple[float, float]
    # Credits per unit of pixels x frames x steps, relative to I2VGen-XL: the ratio of their
    # FLOPs per video at equal pixels x frames x steps (benchmarks/model_flops.py).
    cost_factor: float = 1.0
    max_batch: int = 8  # jobs that may share one pipeline call
    fast: bool = False  # whether the speed mode (engine/fast.py) applies
    auto_dtype: str = "fp16"  # what dtype "auto" means on a CUDA GPU

    def frame_counts(self) -> str:
        """The frame counts it takes, in words, for messages."""
        lo, hi = self.frames
        if self.frame_step == 1:
            return f"{lo}-{hi}"
        return f"{lo}-{hi} of the form {self.frame_step}k+1 ({lo}, {lo + self.frame_step}, …)"

    def make_engine(self, config: Any) -> Any:
        module, _, name = self.engine.partition(":")
        return getattr(importlib.import_module(module), name)(config)


I2VGEN_XL = ModelCard(
    name="i2vgen-xl",
    title="I2VGen-XL",
    hub_id="ali-vilab/i2vgen-xl",
    license="MIT",
    needs="2.5 B parameters, 5 GB of weights in fp16; 12-14 GB of GPU memory at 512p",
    engine="engine.generator:Engine",
    presets=_presets(
        Preset("preview", "512p", 8, 8, 30, 9.0),
        Preset("standard", "512p", 16, 8, 50, 9.0),
        Preset("high", "768p", 24, 12, 80, 9.0),
        Preset("max", "1024p", 32, 12, 100, 9.0),
    ),
    resolutions={"256p": 256, "512p": 512, "768p": 768, "1024p": 1024},
    multiple=64,
    frames=(8, 32),
    frame_step=1,
    fps=(4, 24),
    steps=(10, 100),
    guidance=(1.0, 20.0),
    fast=True,
)

# Wan 2.2 TI2V-5B: 24 fps, frame counts 4k+1 (the VAE folds 4 frames into one latent), sizes
# in multiples of 32 (16x VAE, 2x2 patches); 1280x704, 121 frames, 50 steps, guidance 5 is
# its model card's setting. Batches of one: diffusers' WanImageToVideoPipeline encodes every
# photo of a batch once per generator, so a batch of two would pair latents wrongly.
WAN = ModelCard(
    name="wan",
    title="Wan 2.2 TI2V-5B",
    hub_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    license="Apache-2.0",
    needs="10.7 B parameters, 24 GB of weights (bf16, the VAE in fp32): cpu offload on a "
          "24 GB GPU",
    engine="engine.wan:WanEngine",
    presets=_presets(
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
    auto_dtype="bf16",
)

CARDS: dict[str, ModelCard] = {card.name: card for card in (I2VGEN_XL, WAN)}
DEFAULT_MODEL = I2VGEN_XL.name
ALIASES = {"i2vgen": "i2vgen-xl", "i2vgenxl": "i2vgen-xl", "wan2.2": "wan", "wan22": "wan"}


def card(name: str) -> ModelCard:
    found = CARDS.get(ALIASES.get(name.lower(), name.lower()))
    if found is None:
        raise Rejected("unknown_model", f"Unknown model '{name}'. Choose one of: "
                       f"{', '.join(CARDS)}.", name=name, choices=", ".join(CARDS))
    return found


def widest(field: str) -> tuple[float, float]:
    """A range that holds every model's (e.g. "frames"): for forms that serve all models,
    each job is then checked against its own model's range."""
    ranges = [getattr(c, field) for c in CARDS.values()]
    return min(r[0] for r in ranges), max(r[1] for r in ranges)
