"""I2V_ATTENTION for Wan: diffusers' own attention backends, and one line when the asked
kernel is not installed (the model then runs with torch's SDPA)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.base import VideoJob
from engine.config import EngineConfig
from engine.models.wan.engine import WanEngine
from engine.spec.params import GenParams

PHOTO = Image.new("RGB", (240, 160), (200, 120, 60))


def backends(engine: WanEngine) -> set[object]:
    return {getattr(m.processor, "_attention_backend", "none")
            for m in engine.pipeline.transformer.modules() if hasattr(m, "processor")}


def test_a_torch_kernel_is_set_through_diffusers_and_a_missing_one_said_in_one_line(
        tiny_wan_dir: Path, tiny_wan: WanEngine, caplog: pytest.LogCaptureFixture) -> None:
    params = GenParams.from_preset("preview", "waves", model="wan", frames=17, steps=10,
                                   width=160, height=128, seed=3)
    default = tiny_wan.generate([VideoJob(PHOTO, params)])[0]
    math = WanEngine(EngineConfig(model=str(tiny_wan_dir), family="wan", device="cpu",
                                  attention="math"))
    missing = WanEngine(EngineConfig(model=str(tiny_wan_dir), family="wan", device="cpu",
                                     attention="flash-attn"))
    try:
        assert {str(b) for b in backends(math)} == {"AttentionBackendName._NATIVE_MATH"}
        assert math.describe().endswith("(float32, math attention)")
        same = math.generate([VideoJob(PHOTO, params)])[0]
        with caplog.at_level(logging.WARNING, logger="engine.models.wan.attention"):
            missing.load()
        lines = [r.getMessage() for r in caplog.records
                 if r.name == "engine.models.wan.attention"]
        assert len(lines) == 1 and "\n" not in lines[0]
        assert lines[0].startswith("I2V_ATTENTION=flash-attn is not installed here") and \
            "flash-attn" in lines[0] and lines[0].endswith("Wan uses sdpa")
        assert missing.describe() == f"{tiny_wan_dir} on cpu (float32)"
        assert missing.generate([VideoJob(PHOTO, params)])[0].frames.shape == (17, 128, 160, 3)
    finally:
        # diffusers makes the last backend set the process's default: put torch's back.
        math.pipeline.transformer.set_attention_backend("native")
    # The math kernel computes the same attention, to rounding.
    assert np.abs(default.frames.astype(int) - same.frames).max() <= 1
