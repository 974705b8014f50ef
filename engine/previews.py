"""Previews while a video renders: one frame of the model's clean-video prediction, now and
then, as a small JPEG.

At every denoising step a diffusion model's output says what the clean latents are
predicted to be; decoding one frame of that prediction shows where the video is going, at
the cost of one frame's VAE decode (benchmarks/PREVIEWS.md counts it). The prediction is read
where the pipeline hands the model's guided output to its scheduler: `previewing` wraps the
scheduler's `step` for one pipeline call, so it sees what the scheduler sees, whatever the
speed mode's cuts did to the model calls. Nothing it computes goes back into the sampling:
the video is the same with previews on or off, and a preview that fails is logged and
dropped, never the job.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from PIL import Image

from engine.decode import to_pixels
from engine.spec.work import PreviewPlan

logger = logging.getLogger(__name__)

LONGEST_SIDE = 512  # pixels: enough for a chat's photo, small to send
JPEG_QUALITY = 80

# (step, total, one JPEG per job of the batch, in the batch's order)
OnPreview = Callable[[int, int, Sequence[bytes]], None]
# (scheduler, model output, timestep, sample, index of the step) -> the clean latents of
# the frames shown; what the model's scheduler would call its x0.
Clean = Callable[[Any, torch.Tensor, Any, torch.Tensor, int], torch.Tensor]
# Those latents -> images (batch, 3, H, W), floats in [-1, 1].
Decode = Callable[[torch.Tensor], torch.Tensor]


def v_prediction_x0(sample: torch.Tensor, v: torch.Tensor,
                    alpha_bar: torch.Tensor | float) -> torch.Tensor:
    """The clean sample of a v-prediction model (I2VGen-XL) at a step whose cumulative alpha
    is `alpha_bar`: x0 = sqrt(alpha_bar) x_t - sqrt(1 - alpha_bar) v (DDIM's and
    DPM-Solver's `pred_original_sample` for prediction_type "v_prediction")."""
    alpha_bar = torch.as_tensor(alpha_bar, dtype=torch.float32, device=sample.device)
    return alpha_bar.sqrt() * sample.float() - (1 - alpha_bar).sqrt() * v.float()


def flow_x0(sample: torch.Tensor, v: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
    """The clean sample of a flow-matching model (Wan) at noise level `sigma`:
    x0 = x_t - sigma v (the flow schedulers' x0 for prediction_type "flow_prediction")."""
    sigma = torch.as_tensor(sigma, dtype=torch.float32, device=sample.device)
    return sample.float() - sigma * v.float()


def jpeg(pixels: torch.Tensor) -> bytes:
    """uint8 (3, H, W) -> a JPEG no larger than LONGEST_SIDE on its longest side."""
    image = Image.fromarray(pixels.permute(1, 2, 0).cpu().numpy())
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


class Previews:
    """When one batch's previews are due, and where they go. Reused across the engine's
    retry at a lower resolution, so the gap holds across it too."""

    def __init__(self, plan: PreviewPlan, send: OnPreview,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self.send = send
        self.clock = clock
        self._last_step = 0
        self._last_at: float | None = None
        self.broken = False  # a preview failed: no more for this batch

    def start(self) -> None:
        """A pipeline call begins (its steps count from 1 again)."""
        self._last_step = 0

    def due(self, step: int, total: int) -> bool:
        if self.broken or not self.plan.on or step >= total:
            return False
        if step - self._last_step < self.plan.interval(total):
            return False
        return self._last_at is None or self.clock() - self._last_at >= self.plan.min_gap_s

    def deliver(self, step: int, total: int, images: torch.Tensor) -> None:
        """Images (batch, 3, H, W) in [-1, 1] -> one JPEG each, sent."""
        pixels = to_pixels(images)
        if pixels is None:
            raise ValueError("the preview's pixels are not finite")
        self.send(step, total, [jpeg(one) for one in pixels])
        self._last_step, self._last_at = step, self.clock()


@contextlib.contextmanager
def previewing(scheduler: Any, previews: Previews | None, total: int, clean: Clean,
               decode: Decode) -> Iterator[None]:
    """Around one pipeline call of `total` steps: before each step of `scheduler` that is
    due, the clean prediction of the shown frames is decoded and sent. The scheduler's own
    `step` runs untouched on untouched inputs; it is restored afterwards."""
    if previews is None or not previews.plan.on:
        yield
        return
    previews.start()
    own = scheduler.step
    index = 0

    @functools.wraps(own)  # the pipelines inspect its signature for eta and generator
    def step(model_output: torch.Tensor, timestep: Any, sample: torch.Tensor,
             *args: Any, **kwargs: Any) -> Any:
        nonlocal index
        index += 1
        if previews.due(index, total):
            _preview(previews, index, total, lambda: decode(
                clean(scheduler, model_output, timestep, sample, index - 1)))
        return own(model_output, timestep, sample, *args, **kwargs)

    scheduler.step = step
    try:
        yield
    finally:
        del scheduler.step  # the class's own method again


@torch.inference_mode()
def _preview(previews: Previews, step: int, total: int,
             images: Callable[[], torch.Tensor]) -> None:
    try:
        previews.deliver(step, total, images())
    except Exception as exc:  # out of memory, a bad frame: the video matters, not this
        previews.broken = True
        logger.warning("preview at step %d of %d failed, no more for this run: %s: %s",
                       step, total, type(exc).__name__, exc)
        if isinstance(exc, torch.OutOfMemoryError) and torch.cuda.is_available():
            torch.cuda.empty_cache()
