"""The DPM-Solver++ scheduler that the speed mode runs instead of the model's DDIM.

I2VGen-XL was trained for v-prediction on a zero-terminal-SNR cosine schedule and ships a
DDIM scheduler with trailing timesteps (Lin et al., "Common Diffusion Noise Schedules and
Sample Steps are Flawed"). The solver must keep all three: the same betas (rescaled to zero
terminal SNR), the same prediction type and trailing spacing, so that its first step starts
from pure noise at t=999 like DDIM's. diffusers' DPMSolverMultistepScheduler supports that
schedule by clamping the last cumulative alpha to 2**-24 instead of 0 (an infinite sigma).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

# Read from the model's own scheduler; everything else is the solver's choice.
SHARED = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "trained_betas",
          "prediction_type", "timestep_spacing", "steps_offset", "rescale_betas_zero_snr")


def dpm_solver(model_scheduler_config: Any) -> Any:
    """DPM-Solver++ (2M, the multistep second-order solver for guided sampling) on the model's
    noise schedule, ending at sigma 0 like DDIM."""
    from diffusers import DPMSolverMultistepScheduler

    shared = {k: model_scheduler_config[k] for k in SHARED if k in model_scheduler_config}
    return DPMSolverMultistepScheduler(
        **shared, algorithm_type="dpmsolver++", solver_order=2, final_sigmas_type="zero",
        lower_order_final=True)


@contextlib.contextmanager
def solver_swapped(pipe: Any, solver: str) -> Iterator[None]:
    """Run one pipeline call with `solver` ("ddim": the model's own scheduler, untouched)."""
    if solver == "ddim":
        yield
        return
    own = pipe.scheduler
    pipe.scheduler = dpm_solver(own.config)  # fresh: a multistep solver keeps state
    try:
        yield
    finally:
        pipe.scheduler = own
