"""The engine: one resident pipeline, jobs in, uint8 frames out.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from PIL import Image

from engine.config import EngineConfig
from engine.decode import decode_frames
from engine.errors import GenerationCancelled, InternalError, OutOfGpuMemory
from engine.fast import STOCK
from engine.frames import to_uint8
from engine.images import prepare_image
from engine.loader import LoadedPipeline, load_pipeline, pick_device
from engine.models import I2VGEN_XL, ModelCard
from engine.params import SEED, GenParams, batch_key, size_for
from engine.prompts import PromptEncoder
from engine.solvers import solver_swapped
from engine.speedups import attention_context
from engine.step_cuts import eager_unet, step_cuts

logger = logging.getLogger(__name__)

OnStep = Callable[[int, int], None]
Cancelled = Callable[[], bool]
# Rough VAE-decode working memory per output pixel and per byte of dtype: the decoder's
# last blocks hold several 128-256 channel activations at full resolution.
DECODE_BYTES_PER_PIXEL = 2000


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


class Engine:
    """I2VGen-XL's engine, and the base of the other models' (engine/models.py): these
    override `_load` and `_run`; batching, seeds, the out-of-memory fallback and the frame
    checks stay here."""

    card: ModelCard = I2VGEN_XL

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._loaded: LoadedPipeline | None = None
        self._prompts: PromptEncoder | None = None
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

    def _load(self) -> LoadedPipeline:
        loaded = load_pipeline(self.config)
        self._prompts = PromptEncoder(loaded.pipe, loaded.device)
        return loaded

    def unload(self) -> None:
        """Free the model's memory (another model is about to take the GPU)."""
        with self._load_lock, self._run_lock:
            if self._loaded is not None:
                logger.info("unloading %s", self.describe())
                self._loaded = self._prompts = None
                self._free_memory()

    def _warm_up(self) -> None:
        """Compile the UNet for the usual shapes now rather than in a user's first job.
        Other shapes compile when first seen (then torch makes the sizes dynamic)."""
        for width, height, frames in self.config.compile_warmup:
            logger.info("compiling the UNet for %dx%d, %d frames", width, height, frames)
            params = GenParams(prompt="warm-up", width=width, height=height, frames=frames,
                               steps=1, seed=0)
            image = Image.new("RGB", (width, height), (128, 128, 128))
            with self._run_lock:
                self._run([VideoJob(image, params)], [params], None, None)

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
                 cancelled: Cancelled | None = None) -> list[Clip]:
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
                videos = self._run(jobs, params, on_step, cancelled)
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
                    videos = self._run(jobs, params, on_step, cancelled)
                except torch.OutOfMemoryError:
                    self._free_memory()
                    raise OutOfGpuMemory("out_of_memory_twice",
                                         self._oom_message(first, lower), size=first,
                                         lower=lower) from None
        return [Clip(frames=to_uint8(video), params=p, lowered_from=lowered_from)
                for video, p in zip(videos, params, strict=True)]

    def _run(self, jobs: Sequence[VideoJob], params: list[GenParams],
             on_step: OnStep | None, cancelled: Cancelled | None) -> np.ndarray:
        assert self._loaded is not None and self._prompts is not None
        pipe, first = self._loaded.pipe, params[0]
        assert first.width is not None and first.height is not None
        # Our own crop (face-aware) to the exact size: the pipeline would crop every image
        # of a batch by the first one's geometry.
        images = [prepare_image(job.image, first.width, first.height) for job in jobs]
        positive = torch.cat([self._prompts(p.prompt) for p in params])
        negative = torch.cat([self._prompts(p.negative_prompt) for p in params])
        # One CPU generator per job, used first for its image latent and then for its
        # starting noise: the same on every device and whatever the batch holds.
        generators = [torch.Generator("cpu").manual_seed(int(p.seed or 0)) for p in params]
        # Nothing should draw from the global RNG any more; seed it anyway so that a
        # future diffusers that does stays reproducible.
        torch.manual_seed(int(first.seed or 0))
        # The speed mode's cuts (engine/fast.py), or none: the solver may run fewer steps.
        shortcuts = self.config.fast if first.fast else STOCK
        steps = shortcuts.steps(first.steps)
        plan = shortcuts.plan(steps)
        with eager_unet(pipe, plan):
            hooks = self._hooks(pipe.unet, steps, on_step, cancelled)
            pipe.image_generators = generators
            try:
                with (attention_context(self._loaded.attention),
                      solver_swapped(pipe, shortcuts.solver),
                      step_cuts(pipe.unet, plan, doubled=first.guidance > 1)):
                    return self._call_pipeline(
                        pipe, image=images, prompt_embeds=positive,
                        negative_prompt_embeds=negative,
                        height=first.height, width=first.width, num_frames=first.frames,
                        target_fps=first.fps, num_inference_steps=steps,
                        guidance_scale=first.guidance, generator=generators,
                        num_videos_per_prompt=1,  # more pairs image latents with wrong prompts
                        decode_chunk_size=self._decode_chunk(first, len(jobs)),
                        clip_skip=None)
            finally:
                pipe.image_generators = None
                for hook in hooks:
                    hook.remove()

    def _call_pipeline(self, pipe: Any, **kwargs: Any) -> np.ndarray:
        """The one place the pipeline runs: its latents, decoded by engine/decode.py into
        batch x frames x H x W x 3 uint8 (floats only when they are not finite)."""
        chunk = kwargs.pop("decode_chunk_size", None)
        latents = pipe(**kwargs, output_type="latent").frames
        return decode_frames(pipe, latents, chunk)

    @staticmethod
    def _hooks(unet: torch.nn.Module, total: int, on_step: OnStep | None,
               cancelled: Cancelled | None) -> list[Any]:
        """Progress and cancellation ride on the UNet: it runs once per step because the
        guidance pair is batched into one call."""
        done = 0

        def before(module: Any, args: Any) -> None:
            if cancelled is not None and cancelled():
                raise GenerationCancelled(f"cancelled before step {done + 1} of {total}")

        def after(module: Any, args: Any, output: Any) -> None:
            nonlocal done
            done += 1
            if on_step is not None:
                on_step(min(done, total), total)
            if done < total and cancelled is not None and cancelled():
                raise GenerationCancelled(f"cancelled after step {done} of {total}")

        return [unet.register_forward_pre_hook(before), unet.register_forward_hook(after)]

    def _decode_chunk(self, params: GenParams, batch: int) -> int | None:
        if self.config.decode_chunk_size is not None:
            return self.config.decode_chunk_size
        assert self._loaded is not None
        if self._loaded.device.type != "cuda":
            return None  # all frames at once: fastest, and RAM is rarely the limit
        free, _ = torch.cuda.mem_get_info(self._loaded.device)
        per_frame = ((params.width or 0) * (params.height or 0) * DECODE_BYTES_PER_PIXEL
                     * torch.finfo(self._loaded.dtype).bits // 8)
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
