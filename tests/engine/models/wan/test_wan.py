"""Wan 2.2 TI2V-5B beside I2VGen-XL: the tiny Wan through the real loader and pipeline, its
frame and size rules, progress and cancel through the step callback, and one worker that
switches between the two models."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.base import VideoJob
from engine.config import EngineConfig
from engine.models.i2vgen_xl.engine import I2VGenXLEngine
from engine.models.wan.engine import WanEngine
from engine.spec.cards import card
from engine.spec.errors import GenerationCancelled, Rejected
from engine.spec.params import GenParams, size_for
from engine.spec.work import RenderSpec, WorkEvent, WorkKind
from engine.worker import BatchRenderer
from tests.images import make_photo

PHOTO = Image.new("RGB", (240, 160), (200, 120, 60))


def wan_params(**overrides: object) -> GenParams:
    base: dict[str, object] = dict(frames=17, steps=10, width=160, height=128, seed=7)
    return GenParams.from_preset("preview", "waves rolling", model="wan",
                                 **{**base, **overrides})


def test_the_tiny_wan_is_saved_like_the_real_one_and_loads_through_the_loader(
        tiny_wan_dir: Path, tiny_wan: WanEngine) -> None:
    index = json.loads((tiny_wan_dir / "model_index.json").read_text())
    assert index["_class_name"] == "WanImageToVideoPipeline" and index["expand_timesteps"]
    assert index["transformer"] == ["diffusers", "WanTransformer3DModel"]
    assert index["text_encoder"] == ["transformers", "UMT5EncoderModel"]
    pipe = tiny_wan.pipeline
    assert pipe.vae_scale_factor_spatial == 16 and pipe.vae_scale_factor_temporal == 4
    assert type(pipe.scheduler).__name__ == "UniPCMultistepScheduler"
    assert pipe.scheduler.config.prediction_type == "flow_prediction"
    assert tiny_wan.describe() == f"{tiny_wan_dir} on cpu (float32)"


def test_a_wan_job_makes_its_frames_and_the_same_seed_makes_the_same_ones(
        tiny_wan: WanEngine) -> None:
    steps: list[tuple[int, int]] = []
    first = tiny_wan.generate([VideoJob(PHOTO, wan_params())],
                              on_step=lambda s, t: steps.append((s, t)))[0]
    assert first.frames.shape == (17, 128, 160, 3) and first.frames.dtype == np.uint8
    assert steps == [(i, 10) for i in range(1, 11)]
    again = tiny_wan.generate([VideoJob(PHOTO, wan_params())])[0]
    assert np.array_equal(first.frames, again.frames)
    other = tiny_wan.generate([VideoJob(PHOTO, wan_params(seed=8))])[0]
    assert not np.array_equal(first.frames, other.frames)


def test_cancelling_stops_after_the_current_step_and_the_next_job_runs(
        tiny_wan: WanEngine) -> None:
    steps: list[int] = []
    with pytest.raises(GenerationCancelled, match="after step 2 of 10"):
        tiny_wan.generate([VideoJob(PHOTO, wan_params())],
                          on_step=lambda s, t: steps.append(s),
                          cancelled=lambda: len(steps) >= 2)
    assert steps == [1, 2]  # the interrupted pipeline skipped the other steps
    clip = tiny_wan.generate([VideoJob(PHOTO, wan_params())])[0]
    assert clip.frames.shape[0] == 17


def test_wan_takes_4k_plus_1_frames_and_sizes_on_its_32_grid() -> None:
    with pytest.raises(Rejected) as err:
        wan_params(frames=20)
    assert err.value.code == "bad_frame_count" and "17, 21" in str(err.value)
    with pytest.raises(Rejected) as err:
        wan_params(width=176, height=112)  # multiples of 16, not of 32
    assert err.value.code == "bad_size" and err.value.params["multiple"] == 32
    with pytest.raises(Rejected) as err:  # the distilled model has no speed mode of its own
        GenParams.from_preset("standard", "waves", model="turbo", fast=True)
    assert err.value.code == "no_fast_mode"
    # The model card's 1280x704 and 832x480 come out of the presets' pixel budgets.
    assert size_for("720p", 1280 / 704, card("wan")) == (1280, 704)
    assert size_for("480p", 832 / 480, card("wan")) == (832, 480)
    assert GenParams.from_preset("standard", "x", model="wan").sized_for(1920, 1080).width \
        == 832


def test_one_worker_switches_models_and_keeps_one_in_memory(
        tmp_path: Path, tiny_model_dir: Path, tiny_wan_dir: Path) -> None:
    i2v = I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu"))
    wan = WanEngine(EngineConfig(model=str(tiny_wan_dir), family="wan", device="cpu"))
    renderer = BatchRenderer(i2v, wan)
    renderer.load()
    assert renderer.models == ("i2vgen-xl", "wan") and renderer.loaded_model == "i2vgen-xl"
    assert not wan.loaded
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo(240, 160))
    events: list[WorkEvent] = []

    def spec(job_id: str, params: GenParams) -> RenderSpec:
        return RenderSpec(job_id, params, photo, tmp_path / f"{job_id}.mp4")

    renderer.run([spec("wan1", wan_params())], events.append, lambda: False)
    assert renderer.loaded_model == "wan" and not i2v.loaded  # one model on the GPU
    i2v_params = GenParams.from_preset("preview", "waves", frames=8, steps=10, width=128,
                                       height=128, seed=1)
    renderer.run([spec("i2v1", i2v_params)], events.append, lambda: False)
    assert renderer.loaded_model == "i2vgen-xl" and not wan.loaded
    done = {e.job_id: e.video for e in events if e.kind is WorkKind.DONE}
    assert done["wan1"] is not None and done["wan1"].frames == 17
    assert done["wan1"].params.model == "wan" and done["wan1"].fps == 24
    assert done["i2v1"] is not None and done["i2v1"].frames == 8


def test_out_of_gpu_memory_at_720p_runs_the_job_at_480p(tiny_wan: WanEngine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real_run, sizes = tiny_wan._run, []

    def short_of_memory(jobs, params, on_step, cancelled, previews=None):  # type: ignore[no-untyped-def]
        sizes.append((params[0].width, params[0].height))
        if len(sizes) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory")
        # The real run at the lower size's shape, but tiny: the shape is what is checked.
        return real_run(jobs, [replace(p, width=64, height=64) for p in params], on_step,
                        cancelled, previews)

    monkeypatch.setattr(tiny_wan, "_run", short_of_memory)
    params = GenParams.from_preset("high", "waves", model="wan", frames=17, steps=10, seed=3)
    clip = tiny_wan.generate([VideoJob(PHOTO, params)])[0]
    assert sizes == [(1152, 768), (768, 512)]  # 3:2 at 720p, then at 480p
    assert clip.lowered_from == "720p" and clip.params.resolution == "480p"


def test_a_model_whose_weights_cannot_load_fails_its_jobs_and_the_worker_goes_on(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    missing = WanEngine(EngineConfig(model=str(tmp_path / "no-wan"), family="wan",
                                     device="cpu"))
    renderer = BatchRenderer(I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu")),
                             missing)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo(240, 160))
    events: list[WorkEvent] = []
    renderer.run([RenderSpec("w", wan_params(), photo, tmp_path / "w.mp4")], events.append,
                 lambda: False)
    failed = [e for e in events if e.kind is WorkKind.FAILED]
    assert [(e.job_id, e.reason, dict(e.reason_params)) for e in failed] == [
        ("w", "model_unavailable", {"model": "wan"})]
    assert "does not exist" in (failed[0].detail or "")
    # A worker without Wan at all says so (the bot never sends it one: a safety net).
    only_i2v = BatchRenderer(I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu")))
    only_i2v.run([RenderSpec("x", wan_params(), photo, tmp_path / "x.mp4")], events.append,
                 lambda: False)
    assert (events[-1].kind, events[-1].reason) == (WorkKind.FAILED, "model_not_here")
    i2v = GenParams.from_preset("preview", "waves", frames=8, steps=10, width=128, height=128,
                                seed=1)
    renderer.run([RenderSpec("i", i2v, photo, tmp_path / "i.mp4")], events.append,
                 lambda: False)
    assert events[-1].kind is WorkKind.DONE and events[-1].job_id == "i"
