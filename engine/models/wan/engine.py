"""Wan 2.2 TI2V-5B through diffusers' WanImageToVideoPipeline.

The traps of today's diffusers, handled here:
- TI2V-5B is the `expand_timesteps` flavour of WanImageToVideoPipeline (no CLIP image
  encoder, one transformer); its repo's model_index names WanPipeline (text-to-video), so
  the class is given explicitly.
- The VAE stays in fp32 (bf16 decoding bands the colours); transformer and UMT5 in bf16
  (fp16 overflows in UMT5). The Hub repo has no fp16 variant files to ask for.
- Frame counts are 4k+1 and sizes multiples of 32, else the pipeline silently rounds:
  the card (card.py) refuses other values up front instead.
- Progress and cancel ride on `callback_on_step_end`; cancel sets the pipeline's interrupt
  flag so the remaining steps are skipped, and the latents are never decoded.
- UMT5-XXL alone is about 11 GB in bf16: on smaller GPUs `cpu_offload` keeps only the running
  sub-model on the GPU, and the VAE decodes in tiles.
Previews (engine/previews.py, preview.py) read the guided flow prediction where the pipeline
hands it to its scheduler, and decode the last latent frame of its clean prediction.
The speed mode (fast.py) is diffusers' TaylorSeer cache plus guidance on the first steps;
the attention kernel is diffusers' backend (attention.py); the decode runs in temporal
chunks sized from free memory (decode.py). FastWan's engine (engine/models/turbo/) is this
one with another scheduler.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.base import Cancelled, Engine, OnStep
from engine.images import prepare_image
from engine.loader import (
    LoadedPipeline,
    from_pretrained,
    pick_device,
    pick_dtype,
    place,
    resolve_source,
)
from engine.models.wan.attention import set_attention
from engine.models.wan.card import CARD
from engine.models.wan.decode import decode, latent_chunk
from engine.models.wan.fast import FAST, STOCK, WanShortcuts, cached
from engine.models.wan.preview import decode_still, last_latent_frame
from engine.models.wan.tiny import ensure_tiny_wan, wan_components
from engine.previews import Previews, previewing
from engine.spec.errors import GenerationCancelled
from engine.spec.params import GenParams

logger = logging.getLogger(__name__)

MAX_TOKENS = 512  # UMT5's prompt length in training


class WanEngine(Engine):
    card = CARD
    # What one output frame of a decode chunk holds on the device, per pixel and per byte of
    # the VAE's dtype (fp32): the decoder's 12-channel output at half size (3 values a pixel),
    # its concatenation, the clamp, and the float temporaries of the 8-bit conversion.
    decode_bytes_per_pixel = 25

    @property
    def fast(self) -> WanShortcuts:
        """What a job that asks for the speed mode runs (a benchmark may set another)."""
        return self.config.fast if isinstance(self.config.fast, WanShortcuts) else FAST

    def _ensure_tiny(self, models_dir: Path) -> Path:
        return ensure_tiny_wan(models_dir)

    def _replacements(self) -> dict[str, Any]:
        """Parts given to the pipeline instead of the folder's (FastWan: its scheduler)."""
        return {}

    def _synthetic_parts(self, device: torch.device | str, dtype: torch.dtype
                         ) -> dict[str, Any]:
        """The full-size architecture with random weights (model "synthetic")."""
        return wan_components("synthetic", device, dtype)

    def _load(self) -> LoadedPipeline:
        from diffusers import AutoencoderKLWan, WanImageToVideoPipeline

        config = self.config
        device = pick_device(config.device)
        dtype = pick_dtype(config.dtype, device, cuda_auto=self.card.auto_dtype)
        source, local = resolve_source(config, self._ensure_tiny)
        offload = config.cpu_offload and device.type == "cuda"
        if config.model == "synthetic":
            logger.info("building %s on %s as %s", source, device, dtype)
            parts = self._synthetic_parts("cpu" if offload else device, dtype)
            pipe = WanImageToVideoPipeline(**{**parts, **self._replacements()})
        else:
            vae = from_pretrained(AutoencoderKLWan, config, source, local, torch.float32,
                                  variant=None, subfolder="vae")
            pipe = from_pretrained(WanImageToVideoPipeline, config, source, local, dtype,
                                   variant=None, vae=vae, **self._replacements())
        if not pipe.config.expand_timesteps:
            logger.warning("%s is not a TI2V model (expand_timesteps is off): it runs, but "
                           "the presets are tuned for Wan 2.2 TI2V-5B", source)
        place(pipe, config, device)
        attention = set_attention(pipe.transformer, config.attention, device)
        if offload:
            pipe.vae.enable_tiling()  # the 720p decode is the other memory peak
        return LoadedPipeline(pipe=pipe, device=device, dtype=dtype, source=source,
                              attention=attention)

    @contextlib.contextmanager
    def _sampling(self, pipe: Any, params: GenParams,
                  generator: torch.Generator) -> Iterator[WanShortcuts]:
        """Around one pipeline call: the speed mode's cache hooks when the job asks for it;
        yields the shortcuts in effect (their guided steps are cut at step end)."""
        shortcuts = self.fast if params.fast else STOCK
        with cached(pipe.transformer, shortcuts, params.steps):
            yield shortcuts

    def _run(self, jobs: Any, params: list[GenParams], on_step: OnStep | None,
             cancelled: Cancelled | None, previews: Previews | None = None) -> np.ndarray:
        assert self._loaded is not None
        pipe, job, p = self._loaded.pipe, jobs[0], params[0]
        assert len(jobs) == 1, "Wan runs one job per call (card max_batch)"
        assert p.width is not None and p.height is not None
        image = prepare_image(job.image, p.width, p.height)
        # A CPU generator: the same starting noise on every device.
        generator = torch.Generator("cpu").manual_seed(int(p.seed or 0))
        torch.manual_seed(int(p.seed or 0))
        if cancelled is not None and cancelled():
            raise GenerationCancelled(f"cancelled before step 1 of {p.steps}")
        stopped_after = 0

        with self._sampling(pipe, p, generator) as shortcuts:
            guided = shortcuts.guided_steps(p.steps)

            def step_end(pipe: Any, i: int, t: Any, tensors: dict[str, Any]
                         ) -> dict[str, Any]:
                nonlocal stopped_after
                if i + 1 == guided < p.steps:
                    # diffusers' dynamic guidance: from the next step on, no negative call.
                    pipe._guidance_scale = 1.0
                if on_step is not None:
                    on_step(i + 1, p.steps)
                if i + 1 < p.steps and cancelled is not None and cancelled() \
                        and not stopped_after:
                    stopped_after = i + 1
                    pipe._interrupt = True  # the pipeline skips the remaining steps
                return {}

            # Inside the sampling: the scheduler previews read is the one this job steps.
            with previewing(pipe.scheduler, previews, p.steps, last_latent_frame,
                            lambda latents: decode_still(pipe, latents)):
                latents = pipe(image=image, prompt=p.prompt,
                               negative_prompt=p.negative_prompt, height=p.height,
                               width=p.width, num_frames=p.frames,
                               num_inference_steps=p.steps, guidance_scale=p.guidance,
                               generator=generator, output_type="latent",
                               max_sequence_length=MAX_TOKENS, callback_on_step_end=step_end,
                               callback_on_step_end_tensor_inputs=[]).frames
        if stopped_after:
            raise GenerationCancelled(f"cancelled after step {stopped_after} of {p.steps}")
        chunk = self._decode_chunk(p, 1, dtype=pipe.vae.dtype)
        return decode(pipe, latents, latent_chunk(chunk))
