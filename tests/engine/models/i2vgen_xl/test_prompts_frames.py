"""The traps around the pipeline: prompt encoding on transformers 5, and bad frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.base import Engine
from engine.frames import to_uint8
from engine.models.i2vgen_xl.prompts import PromptEncoder
from engine.spec.errors import InternalError


def test_prompt_embeddings_are_clip_skip_1(tiny_engine: Engine) -> None:
    pipe = tiny_engine._loaded.pipe  # type: ignore[union-attr]
    encoder = PromptEncoder(pipe, torch.device("cpu"))
    embeds = encoder("a cat turning its head slowly to the right")
    assert embeds.shape == (1, 77, pipe.text_encoder.config.hidden_size)
    # Independently: penultimate hidden state through the final layer norm.
    ids = pipe.tokenizer("a cat turning its head slowly to the right", padding="max_length",
                         max_length=77, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        out = pipe.text_encoder(ids, output_hidden_states=True)
        expected = pipe.text_encoder.final_layer_norm(out.hidden_states[-2])
        assert not torch.allclose(expected, out.last_hidden_state)  # really a different layer
    torch.testing.assert_close(embeds, expected)


def test_upstream_clip_skip_path_crashes_or_agrees(tiny_engine: Engine) -> None:
    """Documents the trap: the pipeline's own clip_skip=1 encoding needs `.text_model`,
    which transformers >= 5.6 removed. If a future version works again it must agree."""
    pipe = tiny_engine._loaded.pipe  # type: ignore[union-attr]
    ours = PromptEncoder(pipe, torch.device("cpu"))("waves")
    pipe._guidance_scale = 1.0
    try:
        theirs, _ = pipe.encode_prompt("waves", torch.device("cpu"), 1, clip_skip=1)
    except AttributeError as e:
        assert "text_model" in str(e)
    else:
        torch.testing.assert_close(ours, theirs)


def test_encodings_are_cached(tiny_engine: Engine) -> None:
    pipe = tiny_engine._loaded.pipe  # type: ignore[union-attr]
    encoder = PromptEncoder(pipe, torch.device("cpu"), size=2)
    first = encoder("")
    assert encoder("") is first  # the usual empty negative prompt: encoded once
    encoder("one")
    encoder("two")  # pushes "" out of a cache of two
    assert encoder("") is not first and torch.equal(encoder(""), first)


def test_long_prompts_are_truncated_not_refused(tiny_engine: Engine) -> None:
    pipe = tiny_engine._loaded.pipe  # type: ignore[union-attr]
    assert PromptEncoder(pipe, torch.device("cpu"))("slowly " * 200).shape[1] == 77


def test_frames_become_uint8() -> None:
    frames = np.linspace(0, 1, 8 * 4 * 4 * 3, dtype=np.float32).reshape(8, 4, 4, 3)
    out = to_uint8(frames)
    assert out.dtype == np.uint8 and out.shape == frames.shape
    assert out.min() == 0 and out.max() == 255


def test_nan_frames_are_refused_clearly() -> None:
    frames = np.full((8, 4, 4, 3), 0.5, np.float32)
    frames[3, 1, 1, 0] = np.nan
    with pytest.raises(InternalError, match="NaN frames; try another seed.*fp32 or bf16"):
        to_uint8(frames)


def test_black_frames_are_refused_clearly() -> None:
    with pytest.raises(InternalError, match="black frames; try another seed"):
        to_uint8(np.zeros((8, 4, 4, 3), np.float32))
    with pytest.raises(InternalError, match="black frames"):
        to_uint8(np.full((8, 4, 4, 3), 1e-3, np.float32))
