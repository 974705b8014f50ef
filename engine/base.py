"""The shared base of every model's engine: one resident pipeline, jobs in, uint8 frames out.

A model's engine (engine/models/<name>/engine.py) subclasses `Engine` and says how its
pipeline loads (`_load`) and runs one batch (`_run`); batching, seeds, the out-of-memory
fallback and the frame checks are the same for all and stay here.

`Engine.generate` blocks for the whole run and is meant for a worker thread, never the
event loop. It reports each denoising step, stops within one step when asked to, keeps a
job's frames independent of what it was batched with, and steps down one resolution once
when the GPU runs out of memory.
"""

from __future__ import annotations

import gc
import logging
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from PIL import Image

from engine.config import EngineConfig
from engine.frames import to_uint8
from engine.loader import LoadedPipeline, pick_device
from engine.previews import Previews
from engine.spec.cards import ModelCard
from engine.spec.errors import InternalError, OutOfGpuMemory
from engine.spec.params import SEED, GenParams, batch_key, size_for

logger = logging.getLogger(__name__)

OnStep = Callable[[int, int], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class VideoJob:
    image: Image.Image  # as returned by load_photo: upright 8-bit RGB
    params: GenParams  # width/height may be None: then they follow the photo's shape


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray  # uint8, frames x height x width x 3
    params: GenParams  # as actually run: seed filled in, size after any OOM fallback
    # The size asked for, when running out of GPU memory made the engine run lower.
    lowered_from: str | None = None


def compatible(a: GenParams, b: GenParams) -> bool:
    return batch_key(a) == batch_key(b)


def resolved(job: VideoJob) -> GenParams:
    """The job's parameters with size and seed fixed, as they will run."""
    params = job.params
    if params.width is None or params.height is None:
        params = params.sized_for(*job.image.size)
    if params.seed is None:
        params = replace(params, seed=secrets.randbelow(SEED[1] + 1))
    return params


def lower_resolution(params: GenParams) -> str | None:
    """The model's largest resolution whose pixel budget is below this run's size."""
    area = (params.width or 0) * (params.height or 0)
    sides = params.card.resolutions
    lower = [name for name, side in sides.items() if side * side < area]
    return max(lower, key=sides.__getitem__) if lower else None


def downscaled(params: GenParams, resolution: str) -> GenParams:
    assert params.width is not None and params.height is not None
    width, height = size_for(resolution, params.width / params.height, params.card)
    return replace(params, resolution=resolution, width=width, height=height)


class Engine(ABC):
    """One model's engine. Subclasses set `card` and implement `_load` and `_run`."""

    card: ModelCard
    # Rough VAE-decode working memory per output pixel and per byte of dtype, for decoding
    # in chunks sized from free GPU memory (`_decode_chunk`).
    decode_bytes_per_pixel = 2000

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._loaded: LoadedPipeline | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one pipeline call at a time; seeds global RNG

    def load(self) -> None:
        """Load the pipeline once; it then stays resident. Safe to call again."""
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._load()
                if self.config.compile_unet:
                    self._warm_up()
                logger.info("engine ready: %s", self.describe())

    @abstractmethod
    def _load(self) -> LoadedPipeline:
        """Build or load the pipeline onto its device (called once, under the load lock)."""

    @abstractmethod
    def _run(self, jobs: Sequence[VideoJob], params: list[GenParams],
             on_step: OnStep | None, cancelled: Cancelled | None,
             previews: Previews | None = None) -> np.ndarray:
        """One pipeline call for a batch: frames (batch, frames, H, W, 3) as uint8 (floats
        only when they are not finite). `params` are the jobs' as resolved; raises
        GenerationCancelled between steps when `cancelled()` says so; sends `previews` of
        the clean prediction when they are due (a model that cannot make them ignores it)."""

    def _warm_up(self) -> None:
        """Compile for the usual shapes at load (I2V_COMPILE); models without it say so."""
        logger.warning("I2V_COMPILE does not apply to %s; it runs uncompiled", self.card.title)

    def _release(self) -> None:
        """Drop what the subclass keeps beside the pipeline (called on unload)."""
        return None

    def unload(self) -> None:
        """Free the model's memory (another model is about to take the GPU)."""
        with self._load_lock, self._run_lock:
            if self._loaded is not None:
                logger.info("unloading %s", self.describe())
                self._loaded = None
                self._release()
                self._free_memory()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    @property
    def pipeline(self) -> Any:
        """The loaded diffusers pipeline (for the benchmark's hooks); loads it if needed."""
        self.load()
        assert self._loaded is not None
        return self._loaded.pipe

    @property
    def device(self) -> torch.device:
        return self._loaded.device if self._loaded else pick_device(self.config.device)

    def describe(self) -> str:
        if self._loaded is None:
            return f"{self.config.model} (not loaded)"
        lp = self._loaded
        dtype = str(lp.dtype).removeprefix("torch.")
        offload = ", cpu offload" if self.config.cpu_offload and lp.device.type == "cuda" else ""
        extras = "".join(f", {s}" for s in lp.speedups)
        if lp.attention != "sdpa":
            extras += f", {lp.attention} attention"
        return f"{lp.source} on {lp.device} ({dtype}{offload}{extras})"

    def generate(self, jobs: Sequence[VideoJob], on_step: OnStep | None = None,
                 cancelled: Cancelled | None = None,
                 previews: Previews | None = None) -> list[Clip]:
        """Run compatible jobs in one call. Raises GenerationCancelled, OutOfGpuMemory,
        or InternalError (for example for NaN frames)."""
        if not jobs:
            return []
        params = [resolved(job) for job in jobs]
        if params[0].model != self.card.name:
            raise InternalError(f"a {params[0].model} job reached the {self.card.name} engine")
        if any(not compatible(params[0], p) for p in params[1:]):
            raise InternalError("jobs in one batch must share size, frames, steps, guidance "
                                f"and fps: {[batch_key(p) for p in params]}")
        self.load()
        with self._run_lock:
            lowered_from = None
            try:
                videos = self._run(jobs, params, on_step, cancelled, previews)
            except torch.OutOfMemoryError:
                self._free_memory()
                lower = lower_resolution(params[0])
                first = f"{params[0].width}x{params[0].height}"
                if lower is None:
                    raise OutOfGpuMemory("out_of_memory", self._oom_message(first),
                                         size=first) from None
                logger.warning("out of GPU memory at %s; retrying at %s (seeds %s)",
                               first, lower, [p.seed for p in params])
                params = [downscaled(p, lower) for p in params]
                lowered_from = jobs_resolution(jobs)
                try:
                    videos = self._run(jobs, params, on_step, cancelled, previews)
                except torch.OutOfMemoryError:
                    self._free_memory()
                    raise OutOfGpuMemory("out_of_memory_twice",
                                         self._oom_message(first, lower), size=first,
                                         lower=lower) from None
        return [Clip(frames=to_uint8(video), params=p, lowered_from=lowered_from)
                for video, p in zip(videos, params, strict=True)]

    def _decode_chunk(self, params: GenParams, batch: int,
                      dtype: torch.dtype | None = None) -> int | None:
        """Frames decoded at once: I2V_DECODE_CHUNK_SIZE, or as many as 60% of the free GPU
        memory holds; None (all at once) off CUDA. `dtype`: the VAE's, when it is not the
        model's (Wan keeps its VAE in fp32)."""
        if self.config.decode_chunk_size is not None:
            return self.config.decode_chunk_size
        assert self._loaded is not None
        if self._loaded.device.type != "cuda":
            return None  # all frames at once: fastest, and RAM is rarely the limit
        free, _ = torch.cuda.mem_get_info(self._loaded.device)
        per_frame = ((params.width or 0) * (params.height or 0) * self.decode_bytes_per_pixel
                     * torch.finfo(dtype or self._loaded.dtype).bits // 8)
        chunk = int(free * 0.6) // max(per_frame, 1)
        return max(1, min(params.frames * batch, chunk))

    def _free_memory(self) -> None:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _oom_message(self, size: str, lower: str | None = None) -> str:
        tried = f" and again at {lower}" if lower else ""
        return (f"The GPU ran out of memory at {size}{tried}. Try a lower resolution or "
                "fewer frames, enable cpu_offload, or free GPU memory used by other programs.")


def jobs_resolution(jobs: Sequence[VideoJob]) -> str:
    """How the first job asked for its size, for the note shown to its owner."""
    p = jobs[0].params
    return p.resolution if p.width is None else f"{p.width}x{p.height}"
