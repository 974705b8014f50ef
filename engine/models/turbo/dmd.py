"""FastVideo's few-step DMD sampling as a diffusers scheduler, for WanImageToVideoPipeline.

How FastVideo samples its DMD-distilled Wan models (`DmdDenoisingStage` in
fastvideo/pipelines/stages/denoising.py; `FastWan2_2_TI2V_5B_Config` in
fastvideo/configs/pipelines/wan.py): the timesteps are fixed, 1000, 757 and 522; at each one
the transformer is called once, without guidance, and its flow prediction v gives the clean
latent x0 = x_t - sigma_t * v, where sigma_t is the sigma of the training schedule's
timestep nearest to t (the 1000-step schedule of a flow-matching Euler scheduler with shift
8, `pred_noise_to_pred_video` in fastvideo/models/utils.py). Before the next timestep, x0 is
noised afresh: x = (1 - sigma_next) * x0 + sigma_next * noise, the noise drawn from the
request's generator (`add_noise` of its scheduler); after the last one x0 is the result.

diffusers' FlowMatchLCMScheduler steps exactly so (x0 = sample - sigma * model_output, then
(1 - sigma_next) * x0 + sigma_next * noise, with a final sigma of 0). Two things would
differ inside WanImageToVideoPipeline, which calls `set_timesteps(num_inference_steps)` and
`step(...)` without a generator: the steps would be spread evenly, and the noise would come
from the global RNG. This subclass takes its timesteps from its config, looks their sigmas
up as FastVideo does, and draws the noise from `generator` (set by the engine per job).

TI2V's photo conditioning is the pipeline's own: the first latent frame is the photo's
latent before every transformer call, its tokens at timestep 0. FastVideo's DMD stage has
no image path (its FastWan 2.2 was distilled data-free, as text to video); the first-frame
mask is Wan 2.2 TI2V's way of taking a photo, and what diffusers does for the base model.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import FlowMatchEulerDiscreteScheduler, FlowMatchLCMScheduler
from diffusers.configuration_utils import register_to_config

DMD_TIMESTEPS = (1000, 757, 522)  # FastWan2_2_TI2V_5B_Config.dmd_denoising_steps
GRID_SHIFT = 8.0  # DmdDenoisingStage's FlowMatchEulerDiscreteScheduler(shift=8.0)


def dmd_sigmas(timesteps: tuple[int, ...], grid_shift: float = GRID_SHIFT,
               train_steps: int = 1000) -> list[float]:
    """Each timestep's sigma: that of the nearest timestep of the shifted training schedule."""
    grid = FlowMatchEulerDiscreteScheduler(num_train_timesteps=train_steps, shift=grid_shift)
    wanted = torch.tensor(timesteps, dtype=grid.timesteps.dtype)
    nearest = (grid.timesteps[None, :] - wanted[:, None]).abs().argmin(dim=1)
    return [float(s) for s in grid.sigmas[nearest]]


class DMDScheduler(FlowMatchLCMScheduler):
    """FlowMatchLCMScheduler on FastVideo's fixed DMD timesteps, noise from `generator`."""

    @register_to_config
    def __init__(self, dmd_timesteps: tuple[int, ...] = DMD_TIMESTEPS,
                 grid_shift: float = GRID_SHIFT, num_train_timesteps: int = 1000) -> None:
        # shift 1: the sigmas are given already shifted (looked up on the shift-8 grid).
        super().__init__(num_train_timesteps=num_train_timesteps, shift=1.0)
        self.generator: torch.Generator | None = None

    @property
    def steps(self) -> int:
        return len(self.config.dmd_timesteps)

    def set_timesteps(self, num_inference_steps: int | None = None,
                      device: str | torch.device | None = None, **_: Any) -> None:
        if num_inference_steps not in (None, self.steps):
            raise ValueError(f"this model samples in {self.steps} steps, not "
                             f"{num_inference_steps}")
        timesteps = [float(t) for t in self.config.dmd_timesteps]
        sigmas = dmd_sigmas(tuple(self.config.dmd_timesteps), self.config.grid_shift,
                            self.config.num_train_timesteps)
        super().set_timesteps(sigmas=sigmas, timesteps=timesteps, device=device)

    def step(self, model_output: torch.Tensor, timestep: float | torch.Tensor,
             sample: torch.Tensor, generator: torch.Generator | None = None,
             return_dict: bool = True) -> Any:
        return super().step(model_output, timestep, sample,
                            generator=generator or self.generator, return_dict=return_dict)
