"""Random-weight FastWan pipelines: Wan 2.2 TI2V-5B's architecture (engine/models/wan/tiny.py),
saved in their own folder so that they load through the real loader as FastWan's would."""

from __future__ import annotations

from pathlib import Path

from engine.models.turbo.card import CARD
from engine.models.wan.tiny import wan_components
from engine.random_weights import ensure_built


def build_tiny_turbo(path: Path) -> Path:
    from diffusers import WanImageToVideoPipeline

    WanImageToVideoPipeline(**wan_components("tiny")).save_pretrained(path)
    return path


def ensure_tiny_turbo(models_dir: Path) -> Path:
    return ensure_built(models_dir, CARD.files.tiny, build_tiny_turbo)
