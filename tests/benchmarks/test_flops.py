"""FLOP counting: the meta device counts what real tensors do, attention grows with the square
of the tokens, and each cut removes the work it claims to."""

from __future__ import annotations

from dataclasses import replace

import torch

from benchmarks.flops import step_flops, unet_flops, unet_inputs, video_flops
from benchmarks.shapes import Shape
from engine.models.i2vgen_xl.fast import CUTS, FAST, MODES, STOCK, StepKind
from engine.models.i2vgen_xl.tiny import tiny_components

SHAPE = Shape("standard", 64, 64, 8, 8, 10, 9.0)


def test_meta_counts_what_real_tensors_do() -> None:
    real = tiny_components()["unet"]
    meta = tiny_components("meta")["unet"]
    small = replace(SHAPE, frames=4)
    # A plain step, and one with every cut at once (no CFG, shallow, cross-attention reused).
    for kind in (StepKind(), StepKind(guided=False, full=False, cross_attention="reuse")):
        counts = [step_flops(unet, kind, unet_inputs(unet, small, doubled=True), doubled=True)
                  for unet in (real, meta)]
        assert counts[0] == counts[1] > 0, kind


def test_attention_is_counted_at_the_real_length_not_scaled() -> None:
    unet = tiny_components("meta")["unet"]
    mid, _ = unet_flops(unet, STOCK, replace(SHAPE, width=128, height=128))
    large, _ = unet_flops(unet, STOCK, replace(SHAPE, width=256, height=256))
    # Four times the pixels: the convolutions cost four times as much, the spatial attention
    # sixteen times; a count scaled linearly from the smaller shape would say 4.
    assert large > 5 * mid


def test_each_cut_removes_its_share_of_the_work() -> None:
    parts = tiny_components("meta")
    flops = video_flops(parts, MODES, SHAPE)
    stock = flops["stock"]
    assert stock.unet_calls == SHAPE.steps and stock.total == (
        stock.encoders + stock.unet + stock.decode)
    assert flops["dpm-solver"].unet * 2 == stock.unet  # the same steps, half as many
    # Without CFG a call is one batch instead of two: a bit more than half the work remains
    # (the context embeddings do not shrink).
    assert 0.5 * stock.unet < flops["cfg-truncation"].unet < 0.8 * stock.unet
    # DeepCache: 4 full steps of 10 (every 3rd), 6 shallow ones that skip the deep blocks
    # (the tiny UNet has one level below the top: little is deep, little is saved).
    unet, inputs = parts["unet"], unet_inputs(parts["unet"], SHAPE, doubled=True)
    full = step_flops(unet, StepKind(), inputs, doubled=True)
    shallow = step_flops(unet, StepKind(full=False), inputs, doubled=True)
    assert shallow < full and flops["deepcache"].unet == 4 * full + 6 * shallow
    assert flops["t-gate"].unet < flops["cfg-truncation"].unet
    assert flops["fast"].total <= 0.5 * stock.total
    assert set(flops) == {"stock", *CUTS, "fast"} and MODES["fast"] == FAST
    assert all(f.encoders == stock.encoders and f.decode == stock.decode
               for f in flops.values())
    assert torch.device("meta") == next(parts["unet"].parameters()).device


def test_wan_is_counted_on_meta_as_on_real_tensors_per_call_and_per_step() -> None:
    from benchmarks.wan_flops import wan_denoiser_flops, wan_video_flops
    from engine.models.wan.tiny import wan_components

    shape = Shape("wan-standard", 64, 64, 9, 24, 4, 5.0)
    real = wan_components("tiny")["transformer"]
    meta = wan_components("tiny", "meta")
    once = wan_denoiser_flops(meta["transformer"], shape)
    assert once == wan_denoiser_flops(real, shape) > 0
    # Two calls a step (prompt, negative prompt) unless guidance is off; linear in steps.
    assert wan_denoiser_flops(real, replace(shape, guidance=1.0)) * 2 == once
    assert wan_denoiser_flops(real, replace(shape, steps=8)) == 2 * once
    encoders, denoiser, decode = wan_video_flops({**meta, "text_flops": 10}, shape)
    assert denoiser == once and decode > 0 and encoders > 20  # the VAE encode + 2 prompts


def test_wan_fast_is_counted_through_the_engines_own_cache_hooks() -> None:
    from benchmarks.wan_flops import wan_denoiser_flops
    from engine.models.wan.fast import FAST
    from engine.models.wan.tiny import wan_components

    transformer = wan_components("tiny", "meta")["transformer"]
    shape = Shape("wan-standard", 160, 128, 17, 24, 10, 5.0)
    stock = wan_denoiser_flops(transformer, shape)
    fast = wan_denoiser_flops(transformer, shape, FAST)
    # The full passes the engine makes (tests/engine/models/wan/test_fast.py: 8 of 20
    # calls), and for each of the 7 predicted ones only the embeddings around the blocks
    # (the prompt's projection: a large share in the tiny model, 0.02% at full size).
    per_call = stock // 20
    assert 8 * per_call < fast < 8 * per_call + 7 * per_call // 5
    assert wan_denoiser_flops(transformer, replace(shape, guidance=1.0), FAST) < fast
    assert not transformer.is_cache_enabled  # the hooks left with the count
