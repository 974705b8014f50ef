"""Wan's decode in temporal chunks: the VAE's own frames bit for bit, whatever the chunk,
and the engine's I2V_DECODE_CHUNK_SIZE reaching it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.base import VideoJob
from engine.config import EngineConfig
from engine.decode import to_pixels
from engine.models.wan.decode import decode, denormalised, latent_chunk
from engine.models.wan.engine import WanEngine
from engine.spec.params import GenParams

PHOTO = Image.new("RGB", (240, 160), (200, 120, 60))


def test_any_chunk_gives_the_vaes_own_frames(tiny_wan: WanEngine) -> None:
    pipe = tiny_wan.pipeline
    latents = torch.randn(1, 48, 5, 8, 10, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        own = pipe.vae.decode(denormalised(pipe.vae, latents), return_dict=False)[0]
    expected = to_pixels(own).permute(0, 2, 3, 4, 1).numpy()
    assert expected.shape == (1, 17, 128, 160, 3)  # 1 + 4 x 4 frames
    for chunk in (None, 1, 2, 3, 5, 9):
        assert np.array_equal(decode(pipe, latents, chunk), expected), chunk
    assert (latent_chunk(None), latent_chunk(3), latent_chunk(9), latent_chunk(121)) == \
        (None, 1, 2, 30)


def test_the_engine_decodes_in_the_chunks_it_is_given(tiny_wan_dir: Path, tiny_wan: WanEngine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    params = GenParams.from_preset("preview", "waves", model="wan", frames=17, steps=10,
                                   width=160, height=128, seed=5)
    whole = tiny_wan.generate([VideoJob(PHOTO, params)])[0]
    chunked = WanEngine(EngineConfig(model=str(tiny_wan_dir), family="wan", device="cpu",
                                     decode_chunk_size=8))  # two latent frames at a time
    vae = chunked.pipeline.vae
    calls: list[int] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the whole clip was decoded at once")

    monkeypatch.setattr(vae, "decode", refuse)
    hook = vae.decoder.register_forward_hook(lambda *a: calls.append(1))
    try:
        clip = chunked.generate([VideoJob(PHOTO, params)])[0]
    finally:
        hook.remove()
    assert len(calls) == 5  # one decoder pass a latent frame, as the VAE's own loop
    assert np.array_equal(clip.frames, whole.frames)
