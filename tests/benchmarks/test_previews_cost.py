"""The previews' cost benchmark counts what the engine does: one frame's decode a preview, as
many previews as the engine's plan makes, beside the job's own compute."""

from __future__ import annotations

import torch

from benchmarks.flops import decode_flops
from benchmarks.model_flops import shape_of
from benchmarks.previews import (
    DEFAULT,
    i2vgen_preview_flops,
    rows,
    table,
    wan_preview_flops,
)
from benchmarks.wan_flops import META, wan_video_flops
from engine.models.i2vgen_xl.tiny import tiny_components
from engine.models.wan.tiny import wan_components
from engine.spec.cards import card


def test_a_preview_is_one_frames_decode_and_a_job_has_the_engines_previews() -> None:
    i2vgen = tiny_components("meta")
    wan = {**wan_components("tiny", META), "text_flops": 0}
    shape = shape_of(card("i2vgen-xl"), "standard")
    each = i2vgen_preview_flops(i2vgen, shape)
    assert each * shape.frames == decode_flops(i2vgen["vae"], shape) > 0  # a 2-D VAE
    wan_shape = shape_of(card("wan"), "standard")
    latent_frames = (wan_shape.frames - 1) // 4 + 1
    clip = wan_video_flops(wan, wan_shape)[2]
    # A lone latent frame decodes to one frame: less than a four-frame chunk of the clip.
    assert 0 < wan_preview_flops(wan, wan_shape) < clip / latent_frames

    found = rows(presets=("standard",), i2vgen=i2vgen, wan=wan)
    assert [(r.model, r.mode) for r in found] == [("i2vgen-xl", "stock"),
                                                  ("i2vgen-xl", "fast"), ("wan", "stock")]
    stock, fast, on_wan = found
    assert stock.planned == DEFAULT.planned(50) == [13, 26, 39]
    assert fast.planned == DEFAULT.planned(25) and fast.job < stock.job
    assert on_wan.planned == DEFAULT.planned(30)
    assert stock.share == 3 * each / stock.job
    assert all(r.first <= 1 / 3 for r in found)
    assert "Goal" in table(found)[-1]
    assert torch.device("meta") == next(i2vgen["vae"].parameters()).device
