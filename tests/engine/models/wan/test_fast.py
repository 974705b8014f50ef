"""Wan's speed mode: diffusers' TaylorSeer hooks skip the blocks on the steps they predict,
guidance stops half-way, and the hooks are gone after the job (a stock job on the same
loaded model is untouched, even after a fast job was cancelled). Its FLOPs, counted through
the same hooks: tests/benchmarks/test_flops.py."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.base import VideoJob
from engine.models.wan.engine import WanEngine
from engine.models.wan.fast import FAST, STOCK, WanShortcuts
from engine.spec.errors import GenerationCancelled
from engine.spec.params import GenParams

PHOTO = Image.new("RGB", (240, 160), (200, 120, 60))


def wan_params(**overrides: object) -> GenParams:
    base: dict[str, object] = dict(frames=17, steps=10, width=160, height=128, seed=7)
    return GenParams.from_preset("preview", "waves rolling", model="wan",
                                 **{**base, **overrides})


class BlockPasses:
    """Counts the passes through the first block's attention: it runs only when the block
    is computed, not when the cache answers for it."""

    def __init__(self, engine: WanEngine) -> None:
        self.count = 0
        attention = engine.pipeline.transformer.blocks[0].attn1
        self.hook = attention.register_forward_hook(lambda *args: self.bump())

    def bump(self) -> None:
        self.count += 1

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


def test_fast_skips_the_blocks_on_predicted_steps_and_stops_guidance_half_way(
        tiny_wan: WanEngine) -> None:
    passes = BlockPasses(tiny_wan)
    calls: list[int] = []
    hook = tiny_wan.pipeline.transformer.register_forward_hook(lambda *a: calls.append(1))
    steps: list[int] = []
    try:
        stock = tiny_wan.generate([VideoJob(PHOTO, wan_params())])[0]
        assert passes.take() == 20 and len(calls) == 20  # both prompts, every step
        calls.clear()
        fast = tiny_wan.generate([VideoJob(PHOTO, wan_params(fast=True))],
                                 on_step=lambda s, t: steps.append(s))[0]
        # The prompt on 10 steps, the negative prompt on the first 5 (guidance half-way);
        # of those, blocks computed on steps 1, 2 (warm-up), 4, 7 and the last for the prompt
        # and on 1, 2, 4 for the negative prompt: 8 of 15 calls.
        assert len(calls) == 15 and passes.take() == 8
        assert steps == list(range(1, 11))  # progress is still one tick a step
        again = tiny_wan.generate([VideoJob(PHOTO, wan_params())])[0]
        assert passes.take() == 20
    finally:
        passes.hook.remove()
        hook.remove()
    assert fast.frames.shape == stock.frames.shape and not np.array_equal(fast.frames,
                                                                           stock.frames)
    assert np.array_equal(stock.frames, again.frames)  # the hooks left with the fast job
    assert not tiny_wan.pipeline.transformer.is_cache_enabled
    repeat = tiny_wan.generate([VideoJob(PHOTO, wan_params(fast=True))])[0]
    assert np.array_equal(fast.frames, repeat.frames)


def test_a_cancelled_fast_job_leaves_no_cache_behind(tiny_wan: WanEngine) -> None:
    stock = tiny_wan.generate([VideoJob(PHOTO, wan_params())])[0]
    ticks: list[int] = []
    with pytest.raises(GenerationCancelled):
        tiny_wan.generate([VideoJob(PHOTO, wan_params(fast=True))],
                          on_step=lambda s, t: ticks.append(s), cancelled=lambda: bool(ticks))
    assert not tiny_wan.pipeline.transformer.is_cache_enabled
    after = tiny_wan.generate([VideoJob(PHOTO, wan_params())])[0]
    assert np.array_equal(stock.frames, after.frames)


def test_the_cache_schedule_is_fixed_by_the_steps() -> None:
    config = FAST.cache_config(30)
    assert (config.cache_interval, config.disable_cache_before_step,
            config.disable_cache_after_step, config.use_lite_mode) == (3, 6, 29, True)
    assert STOCK.cache_config(30) is None and FAST.guided_steps(30) == 15
    with pytest.raises(ValueError):
        WanShortcuts(cache_interval=0)
