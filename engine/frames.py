"""Check and convert the pipeline's float frames before anything is encoded."""

from __future__ import annotations

import numpy as np

from engine.spec.errors import GenerationFailed, InternalError

BLACK_LEVEL = 2 / 255  # the brightest pixel of an "all black" video stays below this


def to_uint8(video: np.ndarray) -> np.ndarray:
    """float frames in [0, 1] (F x H x W x 3) -> uint8, refusing NaN or all-black output:
    fp16 overflow shows up as NaN (black after conversion), which must not ship as a video."""
    video = np.asarray(video)
    if video.size == 0:
        raise InternalError("the model produced no frames")
    if not np.isfinite(video).all():
        raise GenerationFailed("nan_frames", "the model produced NaN frames; try another "
                               "seed, or run the engine in fp32 or bf16 instead of fp16")
    if video.dtype == np.uint8:
        out = video
    else:
        out = np.clip(np.rint(video * 255.0), 0, 255).astype(np.uint8)
    if out.max() <= round(BLACK_LEVEL * 255):
        raise GenerationFailed("black_frames", "the model produced black frames; try another "
                               "seed, or run the engine in fp32 or bf16 instead of fp16")
    return out
