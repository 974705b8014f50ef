"""The speed mode's plan and its cuts on the tiny UNet: each cut does what it claims, exactly
where it claims to be exact, and leaves the UNet as it found it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, I2VGenXLPipeline

from benchmarks.flops import unet_inputs
from benchmarks.shapes import Shape
from engine.base import Engine, VideoJob
from engine.config import EngineConfig
from engine.frames import to_uint8
from engine.models.i2vgen_xl.attention_gate import cross_attention_layers
from engine.models.i2vgen_xl.decode import decode_frames
from engine.models.i2vgen_xl.engine import I2VGenXLEngine
from engine.models.i2vgen_xl.fast import CUTS, FAST, STOCK, Shortcuts, StepKind
from engine.models.i2vgen_xl.solvers import dpm_solver, solver_swapped
from engine.models.i2vgen_xl.step_cuts import eager_unet, step_cuts
from engine.models.i2vgen_xl.tiny import SCHEDULER, tiny_components
from engine.spec.errors import GenerationCancelled, GenerationFailed, InternalError
from engine.spec.params import GenParams
from tests.images import make_image

SHAPE = Shape("standard", 64, 64, 8, 8, 10, 9.0)


@pytest.fixture(scope="module")
def unet() -> Any:
    torch.manual_seed(0)
    return tiny_components()["unet"]


@pytest.fixture
def inputs(unet: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Both guidance halves, different from each other (as the negative prompt is)."""
    args, kwargs = unet_inputs(unet, SHAPE, doubled=True)
    gen = torch.Generator().manual_seed(1)
    sample = torch.randn(args[0].shape, generator=gen)
    kwargs = {k: (torch.randn(v.shape, generator=gen) if k in (
        "encoder_hidden_states", "image_latents", "image_embeddings") else v)
        for k, v in kwargs.items()}
    return (sample, args[1]), kwargs


def call(unet: Any, inputs: tuple[tuple[Any, ...], dict[str, Any]]) -> torch.Tensor:
    args, kwargs = inputs
    with torch.no_grad():
        return unet(*args, **kwargs)[0]


def test_stock_plans_plain_steps_and_fast_plans_the_paper_settings() -> None:
    assert STOCK.steps(50) == 50 and set(STOCK.plan(50)) == {StepKind()}
    plan = FAST.plan(FAST.steps(50))
    assert len(plan) == 25
    # T-GATE at 10 of 25: ten guided steps, the tenth records, the rest reuse without CFG.
    assert [k.guided for k in plan] == [True] * 10 + [False] * 15
    assert [i for i, k in enumerate(plan) if k.cross_attention == "record"] == [9]
    assert all(k.cross_attention == "reuse" for k in plan[10:])
    # DeepCache every 2nd step, and a full step where the batch halves (step 10).
    full = [i for i, k in enumerate(plan) if k.full]
    assert full == [0, 2, 4, 6, 8, 9, 10, 12, 14, 16, 18, 20, 22, 24]
    assert FAST.steps(30) == 15 and FAST.steps(1) == 1


def test_each_cut_plans_only_its_own_change() -> None:
    count = {name: Counter(s.plan(s.steps(50))) for name, s in CUTS.items()}
    assert count["dpm-solver"] == {StepKind(): 25}
    assert count["cfg-truncation"] == {StepKind(): 25, StepKind(guided=False): 25}
    assert count["deepcache"] == {StepKind(): 17, StepKind(full=False): 33}
    assert count["t-gate"] == {StepKind(): 19, StepKind(cross_attention="record"): 1,
                               StepKind(guided=False, cross_attention="reuse"): 30}
    with pytest.raises(ValueError):
        Shortcuts(solver="euler")
    with pytest.raises(ValueError):
        Shortcuts(gate_fraction=1.0)


def test_a_step_without_guidance_gives_the_conditional_prediction_exactly(
        unet: Any, inputs: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    args, kwargs = inputs
    half = (args[0][1:], args[1]), {k: (v[1:] if torch.is_tensor(v) and v.ndim else v)
                                    for k, v in kwargs.items()}
    conditional = call(unet, half)
    with step_cuts(unet, [StepKind(guided=False)], doubled=True):
        out = call(unet, inputs)
    # Both halves hold the conditional prediction: the pipeline's u + g * (c - u) is c.
    assert out.shape[0] == 2
    assert torch.equal(out[0], conditional[0]) and torch.equal(out[1], conditional[0])


def test_deepcache_shallow_step_on_the_same_input_repeats_the_full_step(
        unet: Any, inputs: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    plain = call(unet, inputs)
    calls: list[str] = []
    # A layer inside a deep block (the block's own hooks fire even around a stand-in).
    deep = unet.down_blocks[1].resnets[0].register_forward_hook(lambda *a: calls.append("deep"))
    try:
        with step_cuts(unet, [StepKind(), StepKind(full=False)], doubled=True):
            full = call(unet, inputs)
            calls.clear()
            shallow = call(unet, inputs)
    finally:
        deep.remove()
    # Same input: the kept deep features are this step's own, so only rounding could differ,
    # and the shallow branch runs the very same operations.
    assert torch.equal(full, plain) and torch.equal(shallow, plain)
    assert calls == []  # the deep blocks did not run on the shallow step
    assert "forward" not in vars(unet.down_blocks[1])  # swapped forwards are gone
    assert torch.equal(call(unet, inputs), plain)


def test_deepcache_shallow_step_uses_the_kept_features(
        unet: Any, inputs: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    args, kwargs = inputs
    moved = (args[0] + 0.5, args[1]), kwargs
    with step_cuts(unet, [StepKind(), StepKind(full=False)], doubled=True):
        call(unet, inputs)
        shallow = call(unet, moved)
    assert not torch.equal(shallow, call(unet, moved))  # not the full UNet on the new input
    assert not torch.equal(shallow, call(unet, inputs))  # and not the old output either


def test_tgate_keeps_the_mean_of_both_halves_and_stops_computing(
        unet: Any, inputs: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
    layers = cross_attention_layers(unet)
    assert layers and all(layer.is_cross_attention for layer in layers)
    originals = [layer.processor for layer in layers]
    seen: list[torch.Tensor] = []

    def spy(module: Any, args: Any, output: Any) -> None:
        seen.append(output)

    hook = layers[0].register_forward_hook(spy)
    plan = [StepKind(cross_attention="record"), StepKind(guided=False, cross_attention="reuse")]
    try:
        with step_cuts(unet, plan, doubled=True):
            gate = layers[0].processor
            call(unet, inputs)
            computed = seen[-1]
            calls: list[int] = []
            inner = gate.inner
            gate.inner = lambda *a, **k: calls.append(1) or inner(*a, **k)
            reused = call(unet, inputs)
    finally:
        hook.remove()
    uncond, cond = computed.chunk(2)
    assert torch.equal(seen[-1], (uncond + cond) / 2)  # the second step reused the mean
    assert calls == [] and reused.shape[0] == 2
    assert [layer.processor for layer in layers] == originals  # processors restored


def test_cuts_are_undone_when_a_step_fails(unet: Any,
                                           inputs: tuple[tuple[Any, ...], dict[str, Any]]
                                           ) -> None:
    plain = call(unet, inputs)
    boom = unet.up_blocks[-1].register_forward_pre_hook(
        lambda *a: (_ for _ in ()).throw(RuntimeError("out of memory")))
    try:
        with step_cuts(unet, [StepKind(), StepKind(full=False)], doubled=True):
            with pytest.raises(RuntimeError):
                call(unet, inputs)
    finally:
        boom.remove()
    assert not unet._forward_pre_hooks and not unet._forward_hooks
    assert torch.equal(call(unet, inputs), plain)


def test_dpm_solver_keeps_the_models_noise_schedule() -> None:
    ddim = DDIMScheduler(**SCHEDULER)
    solver = dpm_solver(ddim.config)
    assert isinstance(solver, DPMSolverMultistepScheduler)
    assert solver.config.algorithm_type == "dpmsolver++" and solver.config.solver_order == 2
    assert solver.config.prediction_type == "v_prediction"
    assert solver.config.rescale_betas_zero_snr and solver.config.timestep_spacing == "trailing"
    solver.set_timesteps(25)
    ddim.set_timesteps(50)
    # Both start from pure noise at the last training step and end at the clean image.
    assert int(solver.timesteps[0]) == int(ddim.timesteps[0]) == 999
    assert float(solver.sigmas[-1]) == 0.0 and len(solver.timesteps) == 25


def test_solver_swap_is_for_one_call(tmp_path: Path) -> None:
    pipe = I2VGenXLPipeline(**tiny_components())
    own = pipe.scheduler
    with solver_swapped(pipe, "dpm++"):
        assert isinstance(pipe.scheduler, DPMSolverMultistepScheduler)
    assert pipe.scheduler is own
    with solver_swapped(pipe, "ddim"):
        assert pipe.scheduler is own


def fast_job(seed: int = 3, steps: int = 10, fast: bool = True) -> VideoJob:
    return VideoJob(make_image(64, 64), GenParams(prompt="a cat turning its head", seed=seed,
                                                 width=64, height=64, frames=8, fps=8,
                                                 steps=steps, fast=fast))


def test_engine_runs_the_speed_mode_in_half_the_steps_and_then_stock_unchanged(
        tiny_engine: Engine) -> None:
    before = tiny_engine.generate([fast_job(fast=False)])[0].frames
    steps: list[tuple[int, int]] = []
    fast = tiny_engine.generate([fast_job()], on_step=lambda s, t: steps.append((s, t)))[0]
    assert steps == [(i, 5) for i in range(1, 6)]
    assert fast.frames.shape == before.shape and fast.params.fast
    assert not np.array_equal(fast.frames, before)  # a different video, by design
    assert np.array_equal(tiny_engine.generate([fast_job()])[0].frames, fast.frames)
    after = tiny_engine.generate([fast_job(fast=False)])[0].frames
    assert np.array_equal(after, before)  # nothing of the speed mode stayed behind
    pipe = tiny_engine.pipeline
    assert isinstance(pipe.scheduler, DDIMScheduler) and not pipe.unet._forward_hooks


def test_fast_and_stock_jobs_never_share_a_batch(tiny_engine: Engine) -> None:
    with pytest.raises(InternalError, match="must share"):
        tiny_engine.generate([fast_job(), fast_job(fast=False)])


def test_cancelling_a_fast_job_leaves_the_unet_whole(tiny_engine: Engine) -> None:
    done: list[int] = []
    with pytest.raises(GenerationCancelled):
        tiny_engine.generate([fast_job(steps=20)], on_step=lambda s, t: done.append(s),
                             cancelled=lambda: len(done) >= 2)  # inside a shallow stretch
    unet = tiny_engine.pipeline.unet
    assert not any("forward" in vars(m) for m in unet.modules())
    assert not any(type(layer.processor).__name__ == "GatedCrossAttention"
                   for layer in cross_attention_layers(unet))


def test_decode_on_the_device_gives_the_pipelines_frames_exactly(tiny_engine: Engine) -> None:
    pipe = tiny_engine.pipeline
    latents = torch.randn(2, 4, 8, 8, 8, generator=torch.Generator().manual_seed(5))
    ours = decode_frames(pipe, latents, chunk=3)
    with torch.no_grad():
        floats = pipe.video_processor.postprocess_video(pipe.decode_latents(latents, 3), "np")
    theirs = np.stack([to_uint8(video) for video in floats])
    assert ours.dtype == np.uint8 and np.array_equal(ours, theirs)


def test_non_finite_frames_come_back_as_floats_to_be_refused(tiny_engine: Engine) -> None:
    latents = torch.full((1, 4, 8, 8, 8), float("nan"))
    frames = decode_frames(tiny_engine.pipeline, latents)
    assert frames.dtype != np.uint8
    with pytest.raises(GenerationFailed):
        to_uint8(frames[0])


@pytest.mark.parametrize("switches", [dict(fuse_qkv=True), dict(channels_last=True)])
def test_speed_mode_composes_with_the_exact_speedups(tiny_engine: Engine, tiny_model_dir: Path,
                                                     switches: dict[str, object]) -> None:
    plain = tiny_engine.generate([fast_job()])[0].frames
    engine = I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu", **switches))  # type: ignore[arg-type]
    frames = engine.generate([fast_job()])[0].frames
    assert np.abs(frames.astype(int) - plain.astype(int)).max() <= 1


def test_a_compiled_unet_is_set_aside_for_a_call_with_cuts() -> None:
    eager = torch.nn.Linear(1, 1)
    compiled = SimpleNamespace(_orig_mod=eager)
    pipe = SimpleNamespace(unet=compiled)
    with eager_unet(pipe, [StepKind(), StepKind(full=False)]):
        assert pipe.unet is eager  # hooks and swapped forwards reach the real modules
    assert pipe.unet is compiled
    with eager_unet(pipe, [StepKind()] * 3):
        assert pipe.unet is compiled  # stock keeps the compiled graph
