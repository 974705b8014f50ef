"""FastWan 2.2 TI2V-5B ("turbo"): the engine's three-step loop is FastVideo's published DMD
sampling, the tiny model loads like FastWan's weights, and a job runs three unguided steps
with progress, cancel and reproducible frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from PIL import Image

import engine.models.wan.engine as wan_engine
from engine.base import VideoJob
from engine.config import EngineConfig
from engine.images import prepare_image
from engine.models.turbo.engine import TurboEngine
from engine.spec.errors import GenerationCancelled, Rejected
from engine.spec.params import GenParams

PHOTO = Image.new("RGB", (240, 160), (200, 120, 60))
FASTVIDEO_TIMESTEPS = (1000, 757, 522)  # FastWan2_2_TI2V_5B_Config.dmd_denoising_steps


def turbo_params(**overrides: object) -> GenParams:
    base: dict[str, object] = dict(frames=17, width=160, height=128, seed=7)
    return GenParams.from_preset("preview", "waves rolling", model="turbo",
                                 **{**base, **overrides})


@torch.inference_mode()
def reference_latents(pipe: Any, params: GenParams,
                      timesteps: tuple[int, ...] = FASTVIDEO_TIMESTEPS) -> torch.Tensor:
    """FastVideo's DMD loop (DmdDenoisingStage, pred_noise_to_pred_video, add_noise), written
    plainly, with Wan 2.2 TI2V's photo conditioning as diffusers' pipeline does it (the first
    latent frame is the photo's latent, its tokens at timestep 0)."""
    assert params.width is not None and params.height is not None
    transformer, vae = pipe.transformer, pipe.vae
    generator = torch.Generator("cpu").manual_seed(int(params.seed or 0))
    embeds, _ = pipe.encode_prompt(params.prompt, do_classifier_free_guidance=False,
                                   max_sequence_length=512, device=torch.device("cpu"))
    shape = (1, 48, (params.frames - 1) // 4 + 1, params.height // 16, params.width // 16)
    latents = torch.randn(shape, generator=generator)
    image = pipe.video_processor.preprocess(prepare_image(PHOTO, params.width, params.height),
                                            height=params.height, width=params.width)
    photo = vae.encode(image[:, :, None]).latent_dist.mode()
    mean = torch.tensor(vae.config.latents_mean).view(1, 48, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, 48, 1, 1, 1)
    photo = (photo - mean) / std
    mask = torch.ones(1, 1, *shape[2:])
    mask[:, :, 0] = 0
    # The training schedule FastVideo looks sigmas up in (its stage's scheduler: shift 8).
    grid = FlowMatchEulerDiscreteScheduler(shift=8.0)

    def sigma(t: int) -> torch.Tensor:
        return grid.sigmas.double()[(grid.timesteps.double() - t).abs().argmin()]

    for i, t in enumerate(timesteps):
        model_input = (1 - mask) * photo + mask * latents
        per_token = (mask[0, 0, :, ::2, ::2] * t).flatten()[None]
        flow = transformer(hidden_states=model_input, timestep=per_token,
                           encoder_hidden_states=embeds, return_dict=False)[0]
        clean = (latents.double() - sigma(t) * flow.double()).to(flow.dtype)
        if i + 1 < len(timesteps):
            noise = torch.randn(shape, generator=generator)
            s = sigma(timesteps[i + 1]).to(flow.dtype)
            latents = (1 - s) * clean + s * noise
        else:
            latents = clean
    return (1 - mask) * photo + mask * latents


def engine_latents(engine: TurboEngine, params: GenParams,
                   monkeypatch: pytest.MonkeyPatch) -> torch.Tensor:
    """The latents the engine hands its decoder for one job."""
    seen: list[torch.Tensor] = []
    real = wan_engine.decode

    def recording(pipe: Any, latents: torch.Tensor, chunk: int | None = None) -> np.ndarray:
        seen.append(latents.clone())
        return real(pipe, latents, chunk)

    monkeypatch.setattr(wan_engine, "decode", recording)
    engine.generate([VideoJob(PHOTO, params)])
    monkeypatch.undo()
    return seen[0]


def test_the_turbo_loop_is_fastvideos_dmd_sampling(tiny_turbo: TurboEngine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    params = turbo_params()
    ours = engine_latents(tiny_turbo, params, monkeypatch)
    reference = reference_latents(tiny_turbo.pipeline, params)
    # FastVideo computes the clean latent in float64, the scheduler in float32.
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    # The check has teeth: three evenly spread steps, or other noise, are another video.
    spread = reference_latents(tiny_turbo.pipeline, params, (1000, 667, 333))
    assert not torch.allclose(ours, spread, atol=1e-3)
    other = engine_latents(tiny_turbo, turbo_params(seed=8), monkeypatch)
    assert not torch.allclose(ours, other, atol=1e-3)


def test_the_tiny_turbo_loads_like_fastwans_weights(tiny_turbo_dir: Path,
                                                    tiny_turbo: TurboEngine) -> None:
    index = json.loads((tiny_turbo_dir / "model_index.json").read_text())
    assert index["transformer"] == ["diffusers", "WanTransformer3DModel"]
    pipe = tiny_turbo.pipeline
    # Whatever scheduler the folder holds, the engine samples with FastVideo's.
    assert type(pipe.scheduler).__name__ == "DMDScheduler" and pipe.config.expand_timesteps
    pipe.scheduler.set_timesteps(3)
    assert pipe.scheduler.timesteps.tolist() == [1000.0, 757.0, 522.0]
    assert tiny_turbo.describe() == f"{tiny_turbo_dir} on cpu (float32)"


def test_a_turbo_job_runs_three_unguided_steps_and_the_seed_decides(
        tiny_turbo: TurboEngine) -> None:
    calls: list[int] = []
    hook = tiny_turbo.pipeline.transformer.register_forward_hook(
        lambda *args: calls.append(1))
    steps: list[tuple[int, int]] = []
    try:
        first = tiny_turbo.generate([VideoJob(PHOTO, turbo_params())],
                                    on_step=lambda s, t: steps.append((s, t)))[0]
    finally:
        hook.remove()
    assert steps == [(1, 3), (2, 3), (3, 3)] and len(calls) == 3  # one call a step: no CFG
    assert first.frames.shape == (17, 128, 160, 3) and first.frames.dtype == np.uint8
    again = tiny_turbo.generate([VideoJob(PHOTO, turbo_params())])[0]
    assert np.array_equal(first.frames, again.frames)


def test_cancelling_a_turbo_job_stops_after_its_step(tiny_turbo: TurboEngine) -> None:
    steps: list[int] = []
    with pytest.raises(GenerationCancelled, match="after step 1 of 3"):
        tiny_turbo.generate([VideoJob(PHOTO, turbo_params())],
                            on_step=lambda s, t: steps.append(s),
                            cancelled=lambda: len(steps) >= 1)
    assert steps == [1]


def test_the_turbo_card_takes_wans_shapes_and_no_other_steps_or_guidance() -> None:
    standard = GenParams.from_preset("standard", "x", model="fastwan")  # an alias
    assert (standard.model, standard.steps, standard.guidance, standard.frames) == \
        ("turbo", 3, 1.0, 121)
    assert GenParams.from_preset("max", "x", model="turbo").sized_for(1280, 704).width == 1280
    for field, value in (("steps", 10), ("guidance", 5.0)):
        with pytest.raises(Rejected) as err:
            turbo_params(**{field: value})
        assert err.value.code == "fixed_value" and err.value.params["name"] == field
        assert str(err.value).startswith(f"{field} is always ")
    with pytest.raises(Rejected) as err:
        turbo_params(frames=20)
    assert err.value.code == "bad_frame_count"


def test_a_folder_laid_out_like_fastvideos_repo_loads(tiny_turbo_dir: Path,
                                                      tmp_path: Path) -> None:
    """FastVideo's repo names its own pipeline class (WanDMDPipeline, the Hub page's tag),
    lists only the five parts it uses and has no TI2V flag: the engine loads it all the
    same, as the TI2V flavour of diffusers' pipeline with FastVideo's scheduler."""
    import shutil

    folder = tmp_path / "fastwan"
    shutil.copytree(tiny_turbo_dir, folder)
    index = json.loads((folder / "model_index.json").read_text())
    keep = ("scheduler", "text_encoder", "tokenizer", "transformer", "vae")
    fastvideo = {"_class_name": "WanDMDPipeline", "_diffusers_version": "0.35.0.dev0",
                 **{k: index[k] for k in keep}}
    (folder / "model_index.json").write_text(json.dumps(fastvideo))
    engine = TurboEngine(EngineConfig(model=str(folder), family="turbo", device="cpu"))
    pipe = engine.pipeline
    assert pipe.config.expand_timesteps and pipe.image_encoder is None
    assert type(pipe.scheduler).__name__ == "DMDScheduler"
    clip = engine.generate([VideoJob(PHOTO, turbo_params())])[0]
    assert clip.frames.shape == (17, 128, 160, 3)
