"""FastWan 2.2 TI2V-5B: Wan's engine and pipeline with FastVideo's DMD scheduler.

The pipeline is diffusers' WanImageToVideoPipeline as for Wan (engine/models/wan/engine.py:
photo conditioning, progress, cancel, the chunked decode); only the scheduler differs
(dmd.py), and the jobs run without guidance (the card allows none). FastVideo's repo names
its own pipeline class in model_index.json (WanDMDPipeline, which diffusers does not have):
the class is given explicitly, with the TI2V flag, and the folder's scheduler is replaced.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from engine.models.turbo.card import CARD
from engine.models.turbo.dmd import DMDScheduler
from engine.models.turbo.tiny import ensure_tiny_turbo
from engine.models.wan.engine import WanEngine
from engine.models.wan.fast import STOCK, WanShortcuts
from engine.spec.params import GenParams


class TurboEngine(WanEngine):
    card = CARD

    def _ensure_tiny(self, models_dir: Path) -> Path:
        return ensure_tiny_turbo(models_dir)

    def _replacements(self) -> dict[str, Any]:
        return {"scheduler": DMDScheduler(), "expand_timesteps": True}

    @contextlib.contextmanager
    def _sampling(self, pipe: Any, params: GenParams,
                  generator: torch.Generator) -> Iterator[WanShortcuts]:
        """The re-noising between steps draws from the job's generator, after its starting
        noise, as FastVideo's loop does."""
        pipe.scheduler.generator = generator
        try:
            yield STOCK
        finally:
            pipe.scheduler.generator = None
