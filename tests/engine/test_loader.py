"""Building, finding and loading models, without the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.base import Engine
from engine.config import EngineConfig
from engine.loader import model_status, pick_device, pick_dtype, resolve_source
from engine.models.i2vgen_xl.card import CARD
from engine.models.i2vgen_xl.engine import load_pipeline
from engine.models.i2vgen_xl.tiny import ensure_tiny_pipeline
from engine.spec.errors import InternalError

TINY_NAME = CARD.files.tiny

UNET = Path("unet/diffusion_pytorch_model.safetensors")


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = load_file(a), load_file(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_tiny_build_recovers_from_an_interrupted_one_and_is_deterministic(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    half = tmp_path / TINY_NAME
    (half / "unet").mkdir(parents=True)  # what a crash mid-save leaves: no model_index.json
    (tmp_path / f".{TINY_NAME}-leftover").mkdir()
    status = model_status(EngineConfig(model="tiny", models_dir=tmp_path))
    assert "will be built" in status
    built = ensure_tiny_pipeline(tmp_path)
    assert built == half and (built / "model_index.json").is_file()
    assert same_weights(built / UNET, tiny_model_dir / UNET)
    stamp = os.stat(built / "model_index.json").st_mtime_ns
    assert ensure_tiny_pipeline(tmp_path) == built  # second call: no rebuild
    assert os.stat(built / "model_index.json").st_mtime_ns == stamp
    assert "built at" in model_status(EngineConfig(model="tiny", models_dir=tmp_path))


def test_tiny_by_name_resolves_to_the_built_folder(tiny_model_dir: Path) -> None:
    config = EngineConfig(model="tiny", models_dir=tiny_model_dir.parent)
    assert resolve_source(config, ensure_tiny_pipeline) == (str(tiny_model_dir), True)


def test_loaded_engine_describes_itself(tiny_engine: Engine, tiny_model_dir: Path) -> None:
    assert tiny_engine.loaded and tiny_engine.device == torch.device("cpu")
    assert tiny_engine.describe() == f"{tiny_model_dir} on cpu (float32)"
    pipe = tiny_engine._loaded.pipe  # type: ignore[union-attr]
    assert pipe.scheduler.config.prediction_type == "v_prediction"
    assert pipe.scheduler.config.rescale_betas_zero_snr
    assert pipe.vae_scale_factor == 8  # the tiny VAE keeps the real latent scale
    assert pipe.tokenizer.model_max_length == 77


def test_model_status_never_downloads(tmp_path: Path, tiny_model_dir: Path) -> None:
    cache = tmp_path / "hf"
    hub = EngineConfig(model="ali-vilab/i2vgen-xl", cache_dir=cache)
    assert "not downloaded yet" in model_status(hub)
    # A cache laid out the way huggingface_hub writes it.
    repo = cache / "models--ali-vilab--i2vgen-xl"
    snapshot = repo / "snapshots" / ("0" * 40)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (snapshot / "unet").mkdir(parents=True)
    (snapshot / "model_index.json").write_text("{}")
    assert "partly" in model_status(hub)
    (snapshot / "unet" / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"")
    assert "found in the Hugging Face cache" in model_status(hub)
    assert model_status(EngineConfig(model=str(tiny_model_dir))).startswith("local model")
    assert "does not exist" in model_status(EngineConfig(model=str(tmp_path / "nope")))
    assert "no model_index.json" in model_status(EngineConfig(model=str(tmp_path)))
    wan = EngineConfig(model="Wan-AI/Wan2.2-TI2V-5B-Diffusers", family="wan", cache_dir=cache)
    assert "not downloaded yet: the first run downloads over 20 GB" in model_status(wan)
    tiny_wan = EngineConfig(model="tiny", family="wan", models_dir=tmp_path / "m")
    assert model_status(tiny_wan).endswith(f"built at {tmp_path / 'm' / 'tiny-wan'} on first use")


def test_bad_model_folders_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InternalError, match="not a diffusers pipeline folder"):
        load_pipeline(EngineConfig(model=str(tmp_path), device="cpu"))
    with pytest.raises(InternalError, match="does not exist"):
        load_pipeline(EngineConfig(model=str(tmp_path / "missing"), device="cpu"))


def test_devices_and_dtypes() -> None:
    assert pick_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert pick_device("auto") in (torch.device("cpu"), torch.device("mps"))
        with pytest.raises(InternalError, match="CUDA is not available"):
            pick_device("cuda")
    with pytest.raises(InternalError, match="Unknown device"):
        pick_device("tpu-please")
    assert pick_dtype("auto", torch.device("cpu")) == torch.float32
    assert pick_dtype("auto", torch.device("cuda")) == torch.float16
    assert pick_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    with pytest.raises(InternalError, match="Unknown dtype"):
        pick_dtype("fp8", torch.device("cpu"))


def test_synthetic_model_has_the_released_architecture() -> None:
    from engine.models.i2vgen_xl.tiny import synthetic_components

    parts = synthetic_components("meta")  # shapes only: no 9 GB of random numbers
    counts = {name: sum(p.numel() for p in parts[name].parameters())  # type: ignore[attr-defined]
              for name in ("unet", "vae", "text_encoder", "image_encoder")}
    assert round(counts["unet"] / 1e9, 2) == 1.42
    assert round(counts["vae"] / 1e6) == 84
    assert round(counts["image_encoder"] / 1e6) == 632


def test_random_models_in_memory_hold_the_saved_weights(tiny_model_dir: Path) -> None:
    from safetensors.torch import load_file

    from engine.models.i2vgen_xl.tiny import tiny_components

    saved = load_file(tiny_model_dir / UNET)
    built = tiny_components()["unet"].state_dict()  # type: ignore[attr-defined]
    assert saved.keys() == built.keys()
    assert all(torch.equal(saved[k], built[k]) for k in saved)
    assert "in memory" in model_status(EngineConfig(model="synthetic"))
