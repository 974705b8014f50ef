"""I2VGen-XL through diffusers' I2VGenXLPipeline (our subclass with per-job image noise).

The traps of today's diffusers, handled here and in this folder:
- the pipeline's `clip_skip=1` crashes with transformers >= 5.6: prompts are encoded by us
  (prompts.py) and handed over as embeddings;
- `generator=` alone is not reproducible (the VAE posterior uses the global RNG): the
  pipeline subclass (pipeline.py) samples each image's latent with its own generator;
- the pipeline has no step callback: hooks on the UNet, which runs once per step (the
  guidance pair is batched), carry progress and cancel;
- it would crop every image of a batch by the first one's geometry: images are cropped and
  resized by us (engine/images.py) to the exact size first;
- with an `eta` above 0 its DDIM steps draw noise for batch x frames latents from a list of
  one generator per video, which diffusers cannot pair: each video's generator is repeated
  once per frame (pipeline.py), so its noise stays its own.
It reads prompts in English only (CLIP): the worker hands it the translation (the card's
`english_prompts`), which `model_prompt` returns.
Previews (engine/previews.py) read the guided v-prediction where the pipeline hands it to
its scheduler (DDIM, or the speed mode's DPM-Solver++), as the (batch x frames) sample it
steps: the last frame of each job is decoded.
The speed mode's cuts (fast.py) are applied around the same pipeline call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from engine.base import Cancelled, Engine, OnStep, VideoJob
from engine.config import EngineConfig
from engine.images import prepare_image
from engine.loader import (
    LoadedPipeline,
    from_pretrained,
    pick_device,
    pick_dtype,
    place,
    resolve_source,
)
from engine.models.i2vgen_xl.card import CARD
from engine.models.i2vgen_xl.decode import decode_frames, decode_stills
from engine.models.i2vgen_xl.fast import FAST, STOCK, Shortcuts
from engine.models.i2vgen_xl.prompts import PromptEncoder
from engine.models.i2vgen_xl.solvers import solver_swapped
from engine.models.i2vgen_xl.speedups import apply_speedups, attention_backend, attention_context
from engine.models.i2vgen_xl.step_cuts import eager_unet, step_cuts
from engine.models.i2vgen_xl.tiny import ensure_tiny_pipeline, random_pipeline
from engine.previews import Clean, Previews, previewing, v_prediction_x0
from engine.spec.errors import GenerationCancelled
from engine.spec.params import GenParams

logger = logging.getLogger(__name__)


def load_pipeline(config: EngineConfig) -> LoadedPipeline:
    from engine.models.i2vgen_xl.pipeline import SeededI2VGenXLPipeline

    device = pick_device(config.device)
    dtype = pick_dtype(config.dtype, device, cuda_auto=CARD.auto_dtype)
    source, local = resolve_source(config, ensure_tiny_pipeline)
    offload = config.cpu_offload and device.type == "cuda"
    if config.model == "synthetic":
        # Made where it runs: seconds on a GPU, and nothing written to disk.
        logger.info("building %s on %s as %s", source, device, dtype)
        pipe = random_pipeline("synthetic", SeededI2VGenXLPipeline,
                               "cpu" if offload else device, dtype)
    else:
        pipe = from_pretrained(SeededI2VGenXLPipeline, config, source, local, dtype)

    place(pipe, config, device)
    attention = attention_backend(config, device)
    speedups = apply_speedups(pipe, config, device)
    return LoadedPipeline(pipe=pipe, device=device, dtype=dtype, source=source,
                          attention=attention, speedups=tuple(speedups))


class I2VGenXLEngine(Engine):
    card = CARD

    def __init__(self, config: EngineConfig) -> None:
        super().__init__(config)
        self._prompts: PromptEncoder | None = None

    @property
    def fast(self) -> Shortcuts:
        """What a job that asks for the speed mode runs (a benchmark may set one cut)."""
        return self.config.fast if isinstance(self.config.fast, Shortcuts) else FAST

    def _load(self) -> LoadedPipeline:
        loaded = load_pipeline(self.config)
        self._prompts = PromptEncoder(loaded.pipe, loaded.device)
        return loaded

    def _release(self) -> None:
        self._prompts = None

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

    def _run(self, jobs: Sequence[VideoJob], params: list[GenParams],
             on_step: OnStep | None, cancelled: Cancelled | None,
             previews: Previews | None = None) -> np.ndarray:
        assert self._loaded is not None and self._prompts is not None
        pipe, first = self._loaded.pipe, params[0]
        assert first.width is not None and first.height is not None
        # Our own crop (face-aware) to the exact size: the pipeline would crop every image
        # of a batch by the first one's geometry.
        images = [prepare_image(job.image, first.width, first.height) for job in jobs]
        positive = torch.cat([self._prompts(p.model_prompt) for p in params])
        negative = torch.cat([self._prompts(p.model_negative) for p in params])
        # One CPU generator per job, used first for its image latent and then for its
        # starting noise: the same on every device and whatever the batch holds.
        generators = [torch.Generator("cpu").manual_seed(int(p.seed or 0)) for p in params]
        # Nothing should draw from the global RNG any more; seed it anyway so that a
        # future diffusers that does stays reproducible.
        torch.manual_seed(int(first.seed or 0))
        # The speed mode's cuts (fast.py), or none: the solver may run fewer steps.
        shortcuts = self.fast if first.fast else STOCK
        steps = shortcuts.steps(first.steps)
        plan = shortcuts.plan(steps)
        # The sampler's eta: the model's default (0, no noise per step) unless a job sets it.
        eta = {} if first.eta is None else {"eta": first.eta}
        with eager_unet(pipe, plan):
            hooks = self._hooks(pipe.unet, steps, on_step, cancelled)
            pipe.image_generators = generators
            pipe.step_generators = [g for g in generators for _ in range(first.frames)]
            try:
                with (attention_context(self._loaded.attention),
                      solver_swapped(pipe, shortcuts.solver),
                      previewing(pipe.scheduler, previews, steps, last_frames(first.frames),
                                 lambda latents: decode_stills(pipe, latents)),
                      step_cuts(pipe.unet, plan, doubled=first.guidance > 1)):
                    return self._call_pipeline(
                        pipe, image=images, prompt_embeds=positive,
                        negative_prompt_embeds=negative,
                        height=first.height, width=first.width, num_frames=first.frames,
                        target_fps=first.fps, num_inference_steps=steps,
                        guidance_scale=first.guidance, generator=generators,
                        num_videos_per_prompt=1,  # more pairs image latents with wrong prompts
                        decode_chunk_size=self._decode_chunk(first, len(jobs)),
                        clip_skip=None, **eta)
            finally:
                pipe.image_generators = pipe.step_generators = None
                for hook in hooks:
                    hook.remove()

    def _call_pipeline(self, pipe: Any, **kwargs: Any) -> np.ndarray:
        """The one place the pipeline runs: its latents, decoded by decode.py into
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


def last_frames(frames: int) -> Clean:
    """The clean prediction of each job's last frame, from the scheduler's view of a step:
    the pipeline flattens (batch, channels, frames, h, w) to (batch x frames, channels, h,
    w) before it steps."""

    def clean(scheduler: Any, v: torch.Tensor, timestep: Any, sample: torch.Tensor,
              index: int) -> torch.Tensor:
        def last(x: torch.Tensor) -> torch.Tensor:
            return x.unflatten(0, (-1, frames))[:, -1]

        alpha_bar = scheduler.alphas_cumprod[int(timestep)]
        return v_prediction_x0(last(sample), last(v), alpha_bar)

    return clean
