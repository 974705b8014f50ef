"""The opt-in speed-ups on the tiny model: they must keep the CPU path working and the
frames what the plain engine makes (to float rounding)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.base import Engine, VideoJob
from engine.config import EngineConfig
from engine.models.i2vgen_xl.engine import I2VGenXLEngine
from engine.models.i2vgen_xl.speedups import attention_backend, attention_context, to_channels_last
from engine.spec.errors import InternalError
from engine.spec.params import GenParams
from tests.images import make_image

PARAMS = GenParams(prompt="a cat turning its head", seed=3, width=64, height=64, frames=8,
                   fps=8, steps=2)


def frames(engine: Engine) -> np.ndarray:
    return engine.generate([VideoJob(make_image(64, 64), PARAMS)])[0].frames


@pytest.mark.parametrize("switches", [
    dict(channels_last=True), dict(fuse_qkv=True), dict(attention="math"),
    dict(attention="flash"), dict(channels_last=True, fuse_qkv=True),
])
def test_speedups_keep_the_frames(tiny_engine: Engine, tiny_model_dir: Path,
                                  switches: dict[str, object]) -> None:
    plain = frames(tiny_engine)
    engine = I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu", **switches))  # type: ignore[arg-type]
    fast = frames(engine)
    # fp32 with another summation order: a pixel may move by one level, no more.
    assert fast.shape == plain.shape
    assert np.abs(fast.astype(int) - plain.astype(int)).max() <= 1


def test_describe_names_the_speedups(tiny_model_dir: Path) -> None:
    engine = I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu", fuse_qkv=True,
                                 channels_last=True, attention="math"))
    engine.load()
    text = engine.describe()
    assert "fused qkv" in text and "channels-last" in text and "math attention" in text
    assert engine.pipeline.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_handles_the_temporal_convolutions() -> None:
    # module.to(memory_format=channels_last) raises on 5-D weights; ours gives each its own.
    model = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3), torch.nn.Conv3d(4, 4, (3, 1, 1)))
    assert to_channels_last(model) == 2
    assert model[1].weight.is_contiguous(memory_format=torch.channels_last_3d)


def test_attention_choice_is_checked() -> None:
    cpu = torch.device("cpu")
    assert attention_backend(EngineConfig(attention="cudnn"), cpu) == "sdpa"  # CUDA-only
    assert attention_backend(EngineConfig(attention="flash"), cpu) == "flash"
    # Another package's kernel reaches only models on diffusers' dispatch (Wan): sdpa here.
    assert attention_backend(EngineConfig(attention="xformers"), cpu) == "sdpa"
    with pytest.raises(InternalError):
        attention_backend(EngineConfig(attention="no-such-kernel"), cpu)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("I2V_TEST_COMPILE"),
                    reason="torch.compile takes minutes on a small shared CPU; set "
                           "I2V_TEST_COMPILE=1 to run it")
def test_compiled_unet_keeps_the_frames(tiny_engine: Engine, tiny_model_dir: Path) -> None:
    plain = frames(tiny_engine)
    engine = I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu", compile_unet=True,
                                 compile_warmup=((64, 64, 8),)))
    steps: list[int] = []
    fast = engine.generate([VideoJob(make_image(64, 64), PARAMS)],
                           on_step=lambda s, t: steps.append(s))[0].frames
    assert steps == [1, 2]  # the progress hooks sit outside the compiled graph
    assert np.abs(fast.astype(int) - plain.astype(int)).max() <= 1


def test_a_kernel_that_refuses_a_shape_falls_back_to_math_for_that_call() -> None:
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    q = torch.randn(2, 2, 16, 4)  # heads of size 4, as the image-latent temporal encoder's
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION]), pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(q, q, q)  # no such kernel on a CPU: the old failure
    with attention_context("efficient"):
        out = F.scaled_dot_product_attention(q, q, q)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, q, q), atol=1e-6)
