"""The pan model's engine: each frame a window a little further right across the photo.

No diffusers and no weights: what it shows is the engine base's contract (`_load` once,
`_run` a batch with progress and cancel between its steps), not a neural network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from engine.base import Cancelled, Engine, OnStep, VideoJob
from engine.images import prepare_image
from engine.loader import LoadedPipeline, pick_device
from engine.previews import Previews
from engine.spec.errors import GenerationCancelled
from engine.spec.params import GenParams
from tests.models.pan.card import CARD

OVERSCAN = 1.25  # the photo is framed this much wider than the video, to pan across


class PanEngine(Engine):
    card = CARD

    def _load(self) -> LoadedPipeline:
        return LoadedPipeline(pipe=None, device=pick_device("cpu"), dtype=torch.float32,
                              source=f"{CARD.title} ({self.config.model})")

    def _run(self, jobs: Sequence[VideoJob], params: list[GenParams],
             on_step: OnStep | None, cancelled: Cancelled | None,
             previews: Previews | None = None) -> np.ndarray:  # no model, no prediction
        first = params[0]
        assert first.width is not None and first.height is not None
        wide = round(first.width * OVERSCAN)
        for step in range(1, first.steps + 1):  # the "denoising": nothing but its contract
            if cancelled is not None and cancelled():
                raise GenerationCancelled(f"cancelled before step {step} of {first.steps}")
            if on_step is not None:
                on_step(step, first.steps)
        videos = []
        for job in jobs:
            photo = np.asarray(prepare_image(job.image, wide, first.height))
            travel = wide - first.width
            offsets = [round(travel * i / max(1, first.frames - 1)) for i in range(first.frames)]
            videos.append(np.stack([photo[:, x:x + first.width] for x in offsets]))
        return np.stack(videos)
