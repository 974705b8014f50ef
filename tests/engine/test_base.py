"""The engine on the tiny random-weight model, on the CPU, through the real pipeline."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.base import Engine, VideoJob, lower_resolution
from engine.models.i2vgen_xl.engine import I2VGenXLEngine
from engine.spec.errors import GenerationCancelled, InternalError, OutOfGpuMemory
from engine.spec.params import GenParams
from engine.video import encode_mp4, read_video
from tests.images import make_image

SMALL = dict(width=64, height=64, frames=8, fps=8, steps=3, guidance=9.0)


def job(seed: int = 1, prompt: str = "a cat turning its head", image_w: int = 96,
        **changes: Any) -> VideoJob:
    params = GenParams(prompt=prompt, seed=seed, **{**SMALL, **changes})
    return VideoJob(make_image(image_w, 64), params)


def test_clip_encodes_to_an_mp4_with_the_asked_shape(tiny_engine: Engine,
                                                     tmp_path: Path) -> None:
    clip = tiny_engine.generate([job(frames=8, fps=12, width=128, height=64, image_w=200)])[0]
    assert clip.frames.dtype == np.uint8 and clip.frames.shape == (8, 64, 128, 3)
    assert clip.lowered_from is None and clip.params.seed == 1
    video = encode_mp4(clip.frames, clip.params.fps, tmp_path / "clip.mp4")
    frames, fps = read_video(video.path)
    assert frames.shape == (8, 64, 128, 3) and fps == 12


def test_same_seed_same_frames_other_seed_other_frames(tiny_engine: Engine) -> None:
    a = tiny_engine.generate([job(seed=7)])[0].frames
    torch.rand(10)  # disturbing the global RNG between runs must not matter
    b = tiny_engine.generate([job(seed=7)])[0].frames
    c = tiny_engine.generate([job(seed=8)])[0].frames
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_size_and_seed_are_filled_in(tiny_engine: Engine) -> None:
    params = GenParams(prompt="waves rolling in", resolution="256p", frames=8, steps=1)
    clip = tiny_engine.generate([VideoJob(make_image(300, 200), params)])[0]
    assert (clip.params.width, clip.params.height) == (320, 192)
    assert clip.params.seed is not None
    assert clip.frames.shape == (8, 192, 320, 3)


def test_progress_is_reported_once_per_step(tiny_engine: Engine) -> None:
    calls: list[tuple[int, int]] = []
    tiny_engine.generate([job(steps=5)], on_step=lambda s, t: calls.append((s, t)))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_cancel_after_step_2_stops_before_step_4(tiny_engine: Engine) -> None:
    steps: list[int] = []
    with pytest.raises(GenerationCancelled):
        tiny_engine.generate([job(steps=10)], on_step=lambda s, t: steps.append(s),
                             cancelled=lambda: len(steps) >= 2)
    assert steps == [1, 2]
    # The engine is still usable afterwards.
    assert tiny_engine.generate([job(steps=1)])[0].frames.shape == (8, 64, 64, 3)


def test_batch_gives_each_job_its_frames_alone(tiny_engine: Engine) -> None:
    a = job(seed=11, prompt="a dog running to the left", image_w=96)
    b = replace(job(seed=12, prompt="leaves falling slowly", image_w=64),
                image=make_image(64, 96).rotate(90, expand=True))
    b = replace(b, params=replace(b.params, negative_prompt="blurry"))
    steps: list[int] = []
    together = tiny_engine.generate([a, b], on_step=lambda s, t: steps.append(s))
    alone = [tiny_engine.generate([a])[0], tiny_engine.generate([b])[0]]
    assert steps == [1, 2, 3]  # one UNet call per step for the whole batch
    for batched, single in zip(together, alone, strict=True):
        assert batched.params == single.params
        diff = np.abs(batched.frames.astype(int) - single.frames.astype(int))
        assert diff.max() <= 1  # float batch-size noise at most: one uint8 step
    assert not np.array_equal(together[0].frames, together[1].frames)


def test_incompatible_batch_is_refused(tiny_engine: Engine) -> None:
    with pytest.raises(InternalError, match="must share"):
        tiny_engine.generate([job(steps=3), job(steps=4)])
    with pytest.raises(InternalError, match="must share"):
        tiny_engine.generate([job(width=64), job(width=128)])


class OomOnce(I2VGenXLEngine):
    """Injects CUDA's out-of-memory error at the one seam where the pipeline runs: a real
    OOM cannot be produced on a CPU."""

    def __init__(self, engine: I2VGenXLEngine, times: int = 1) -> None:
        super().__init__(engine.config)
        self._loaded, self._prompts = engine._loaded, engine._prompts  # share the model
        self.times = times
        self.sizes: list[tuple[int, int]] = []

    def _call_pipeline(self, pipe: Any, **kwargs: Any) -> np.ndarray:
        self.sizes.append((kwargs["width"], kwargs["height"]))
        if len(self.sizes) <= self.times:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super()._call_pipeline(pipe, **kwargs)


def test_oom_retries_once_at_the_next_lower_resolution(tiny_engine: Engine) -> None:
    engine = OomOnce(tiny_engine)
    params = GenParams(prompt="a boat", resolution="512p", frames=8, steps=1, seed=3)
    clip = engine.generate([VideoJob(make_image(300, 200), params)])[0]
    assert engine.sizes == [(640, 384), (320, 192)]
    assert clip.params.resolution == "256p" and clip.frames.shape == (8, 192, 320, 3)
    assert clip.lowered_from == "512p"


def test_oom_twice_is_a_clear_error(tiny_engine: Engine) -> None:
    engine = OomOnce(tiny_engine, times=2)
    params = GenParams(prompt="a boat", resolution="512p", frames=8, steps=1, seed=3)
    with pytest.raises(OutOfGpuMemory, match="640x384 and again at 256p.*lower resolution"):
        engine.generate([VideoJob(make_image(300, 200), params)])


def test_oom_at_the_lowest_resolution_is_not_retried(tiny_engine: Engine) -> None:
    engine = OomOnce(tiny_engine)
    with pytest.raises(OutOfGpuMemory, match="ran out of memory at 64x64"):
        engine.generate([job()])
    assert engine.sizes == [(64, 64)]


def test_lower_resolution() -> None:
    sized = GenParams(prompt="x", width=1024, height=1024)
    assert lower_resolution(sized) == "768p"
    assert lower_resolution(replace(sized, width=640, height=384)) == "256p"
    assert lower_resolution(replace(sized, width=256, height=256)) is None


def test_eta_adds_noise_that_stays_each_jobs_own_in_a_batch(tiny_engine: Engine) -> None:
    """DDIM with eta above 0 draws noise at every step; a batch's jobs each keep theirs."""
    a, b = job(seed=21, eta=0.5), job(seed=22, eta=0.5, prompt="leaves falling")
    together = tiny_engine.generate([a, b])
    alone = tiny_engine.generate([a])[0]
    diff = np.abs(together[0].frames.astype(int) - alone.frames.astype(int))
    assert diff.max() <= 1  # float batch-size noise at most, as without eta
    assert not np.array_equal(alone.frames, tiny_engine.generate([job(seed=21)])[0].frames)
    assert tiny_engine.generate([a])[0].frames.tobytes() == alone.frames.tobytes()
