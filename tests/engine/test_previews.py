"""Previews while a video renders: the clean prediction checked against each scheduler's own
formula, when they come, and that they never change the video (tiny models, CPU)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.base import Engine, VideoJob
from engine.models.i2vgen_xl.engine import last_frames
from engine.models.i2vgen_xl.solvers import dpm_solver
from engine.models.i2vgen_xl.tiny import SCHEDULER as I2VGEN_SCHEDULER
from engine.models.wan.engine import WanEngine
from engine.models.wan.preview import last_latent_frame
from engine.models.wan.tiny import SCHEDULER as WAN_SCHEDULER
from engine.previews import Previews
from engine.spec.cards import cards
from engine.spec.params import GenParams
from engine.spec.work import PreviewPlan, RenderSpec, WorkEvent, WorkKind
from engine.video import read_video
from engine.worker import BatchRenderer
from tests.images import make_image, make_photo

EVERY = PreviewPlan(every=0.25, min_gap_s=0)  # no gap: a tiny job takes milliseconds
FRAMES = 8


def noise(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


class Sent:
    """What a batch's previews sent: (step, total, JPEGs) each time."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, list[bytes]]] = []

    def __call__(self, step: int, total: int, jpegs: Sequence[bytes]) -> None:
        self.calls.append((step, total, list(jpegs)))

    @property
    def steps(self) -> list[int]:
        return [step for step, _, _ in self.calls]


# The clean prediction, against the schedulers' own formulas

def test_i2vgen_xls_x0_is_ddims_own_pred_original_sample() -> None:
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler(**I2VGEN_SCHEDULER)  # the released model's configuration
    scheduler.set_timesteps(50)
    clean = last_frames(FRAMES)
    # Two jobs of FRAMES frames, flattened as the pipeline hands them to its scheduler.
    sample, v = noise(2 * FRAMES, 4, 8, 8, seed=1), noise(2 * FRAMES, 4, 8, 8, seed=2)
    for index in (0, 1, 25, 49):  # t=999 (zero terminal SNR: x0 = -v), the middle, the end
        t = scheduler.timesteps[index]
        own = scheduler.step(v, t, sample).pred_original_sample
        ours = clean(scheduler, v, t, sample, index)
        assert ours.shape == (2, 4, 8, 8)
        torch.testing.assert_close(ours, own.unflatten(0, (2, FRAMES))[:, -1])
    first = scheduler.timesteps[0]
    torch.testing.assert_close(clean(scheduler, v, first, sample, 0),
                               -v.unflatten(0, (2, FRAMES))[:, -1])


def test_the_speed_modes_solver_gives_the_same_x0_as_its_own_data_prediction() -> None:
    from diffusers import DDIMScheduler

    solver = dpm_solver(DDIMScheduler(**I2VGEN_SCHEDULER).config)  # DPM-Solver++ (fast)
    solver.set_timesteps(25)
    clean = last_frames(FRAMES)
    sample, v = noise(FRAMES, 4, 8, 8, seed=3), noise(FRAMES, 4, 8, 8, seed=4)
    for index in (0, 12, 24):
        t = solver.timesteps[index]
        solver._step_index = index  # where the solver stands at this step
        own = solver.convert_model_output(v, sample=sample)  # its x0 (dpmsolver++)
        torch.testing.assert_close(clean(solver, v, t, sample, index), own[-1:],
                                   rtol=1e-4, atol=1e-4)


def test_wans_x0_is_the_flow_schedulers_own() -> None:
    from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler

    unipc = UniPCMultistepScheduler(**WAN_SCHEDULER)  # Wan 2.2 TI2V-5B's
    unipc.set_timesteps(30)
    sample, v = noise(1, 48, 5, 4, 4, seed=5), noise(1, 48, 5, 4, 4, seed=6)
    for index in (0, 15, 29):
        unipc._step_index = index
        own = unipc.convert_model_output(v, sample=sample)  # UniPC's x0 (flow prediction)
        ours = last_latent_frame(unipc, v, unipc.timesteps[index], sample, index)
        torch.testing.assert_close(ours, own[:, :, -1:])
    # Flow-matching Euler steps x + (sigma_next - sigma) v: its last step (to sigma 0)
    # lands on x0 itself, from any sigma.
    euler = FlowMatchEulerDiscreteScheduler(shift=5.0)
    euler.set_timesteps(1)
    t = euler.timesteps[0]
    landed = euler.step(v, t, sample).prev_sample
    torch.testing.assert_close(last_latent_frame(euler, v, t, sample, 0), landed[:, :, -1:])


# When previews come

def test_a_standard_job_has_three_previews_the_first_within_its_first_third() -> None:
    plan = PreviewPlan(every=0.25)
    assert plan.planned(50) == [13, 26, 39] and plan.planned(10) == [3, 6, 9]
    assert PreviewPlan(every=0).planned(50) == [] and not PreviewPlan().on
    for model in cards().values():
        for preset in model.presets.values():
            first = plan.planned(preset.steps)[0]
            assert first / preset.steps <= 1 / 3, (model.name, preset.name)
            assert preset.steps not in plan.planned(preset.steps)  # the video follows


def test_previews_keep_their_gap_in_seconds_and_stop_at_the_last_step() -> None:
    now = [0.0]
    previews = Previews(PreviewPlan(every=0.25, min_gap_s=3), Sent(), clock=lambda: now[0])
    assert not previews.due(2, 10) and previews.due(3, 10)  # the first has no gap to keep
    previews.deliver(3, 10, torch.zeros(1, 3, 16, 16))
    now[0] = 1.0
    assert not previews.due(6, 10)  # three steps on, but only a second later
    now[0] = 3.5
    assert previews.due(7, 10) and not previews.due(10, 10)


# Previews from the tiny models: they come, and the video is the same without them

def i2vgen_job(seed: int = 7, **changes: object) -> VideoJob:
    params = GenParams(prompt="a cat turning its head", seed=seed,
                       **{**dict(width=64, height=64, frames=FRAMES, fps=8, steps=10,
                                 guidance=9.0), **changes})
    return VideoJob(make_image(96, 64), params)


def check_jpegs(sent: Sent, size: tuple[int, int], count: int = 1) -> None:
    for _, _, jpegs in sent.calls:
        assert len(jpegs) == count
        for data in jpegs:
            image = Image.open(io.BytesIO(data))
            assert image.format == "JPEG" and image.size == size


@pytest.mark.parametrize("fast", [False, True], ids=["stock", "speed mode"])
def test_i2vgen_xl_previews_come_and_never_change_the_video(tiny_engine: Engine,
                                                            fast: bool) -> None:
    jobs = [i2vgen_job(7, fast=fast), i2vgen_job(8, fast=fast)]  # a batch of two
    without = tiny_engine.generate(jobs)
    sent = Sent()
    with_previews = tiny_engine.generate(jobs, previews=Previews(EVERY, sent))
    for a, b in zip(without, with_previews, strict=True):
        assert np.array_equal(a.frames, b.frames)
    steps = 5 if fast else 10  # the speed mode's solver runs half the steps
    assert sent.steps == EVERY.planned(steps) and len(sent.steps) >= 2
    assert all(total == steps for _, total, _ in sent.calls)
    check_jpegs(sent, (64, 64), count=2)  # one per job of the batch
    first, second = sent.calls[0][2]
    assert first != second  # each job its own


def test_wan_previews_come_and_never_change_the_video(tiny_wan: WanEngine) -> None:
    params = GenParams.from_preset("preview", "waves rolling", model="wan", frames=17,
                                   steps=10, width=160, height=128, seed=7)
    job = VideoJob(Image.new("RGB", (240, 160), (200, 120, 60)), params)
    without = tiny_wan.generate([job])[0]
    sent = Sent()
    with_previews = tiny_wan.generate([job], previews=Previews(EVERY, sent))[0]
    assert np.array_equal(without.frames, with_previews.frames)
    assert sent.steps == [3, 6, 9]
    check_jpegs(sent, (160, 128))


def test_a_failing_preview_is_dropped_and_the_video_still_comes(tiny_engine: Engine,
                                                                monkeypatch) -> None:
    import engine.models.i2vgen_xl.engine as i2vgen

    def broken(pipe: object, latents: torch.Tensor) -> torch.Tensor:
        raise torch.OutOfMemoryError("CUDA out of memory (a preview)")

    without = tiny_engine.generate([i2vgen_job()])[0]
    monkeypatch.setattr(i2vgen, "decode_stills", broken)
    sent = Sent()
    previews = Previews(EVERY, sent)
    clip = tiny_engine.generate([i2vgen_job()], previews=previews)[0]
    assert np.array_equal(without.frames, clip.frames)
    assert previews.broken and sent.calls == []  # none after the first failure


def test_the_same_seed_makes_the_same_mp4_with_previews_on_and_off(tiny_engine: Engine,
                                                                   tmp_path: Path) -> None:
    """Through the worker, for a batch of two: each job gets its own previews, and each MP4
    is the same byte for byte as without them."""
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(160, 128))
    renderer = BatchRenderer(tiny_engine)
    runs: dict[str, list[WorkEvent]] = {}
    for name, plan in (("off", PreviewPlan()), ("on", EVERY)):
        events: list[WorkEvent] = []
        specs = [RenderSpec(job_id=f"{name}{seed}", params=i2vgen_job(seed).params,
                            photo=photo, output=tmp_path / f"{name}{seed}.mp4", previews=plan)
                 for seed in (7, 8)]
        renderer.run(specs, events.append, lambda: False)
        assert [e.kind for e in events if e.kind.final] == [WorkKind.DONE] * 2, events[-1]
        runs[name] = events
    assert not [e for e in runs["off"] if e.preview is not None]
    shown = {seed: [e for e in runs["on"] if e.preview is not None and e.job_id == f"on{seed}"]
             for seed in (7, 8)}
    for seed, events in shown.items():
        assert [e.step for e in events] == [3, 6, 9]
        assert all(e.kind is WorkKind.PROGRESS and e.total == 10 for e in events)
        off, _ = read_video(tmp_path / f"off{seed}.mp4")
        on, _ = read_video(tmp_path / f"on{seed}.mp4")
        assert np.array_equal(off, on)
        assert (tmp_path / f"off{seed}.mp4").read_bytes() == \
            (tmp_path / f"on{seed}.mp4").read_bytes()
    assert shown[7][0].preview != shown[8][0].preview
