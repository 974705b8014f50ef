"""Compute cuts that change the video, and the speed mode `fast` that combines them.

Each cut is one field of `Shortcuts`; `STOCK` has them all off and is what every preset runs.
A job asks for the speed mode with `GenParams.fast`. The cuts, and what was measured for each
in the literature, are described in benchmarks/README.md:

- a better solver at fewer steps: DPM-Solver++ (2M) instead of DDIM, at half the steps;
- CFG truncation: the unconditional pass only for the first part of the steps;
- DeepCache: the full UNet every N steps, only its shallowest branch in between;
- T-GATE: cross-attention cached once it has converged, and CFG dropped from then on.

`Shortcuts.plan` turns the settings into one `StepKind` per denoising step; the engine's
hooks (step_cuts.py) and the FLOP count (benchmarks/flops.py) both read that plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SOLVERS = ("ddim", "dpm++")
CrossAttention = Literal["live", "record", "reuse"]


@dataclass(frozen=True)
class StepKind:
    """What one denoising step runs."""

    guided: bool = True  # both guidance halves (else the conditional one alone)
    full: bool = True  # the whole UNet (else DeepCache's shallow branch on cached features)
    # T-GATE: compute cross-attention ("live"), compute it and keep it ("record"), or use
    # the kept one ("reuse").
    cross_attention: CrossAttention = "live"


@dataclass(frozen=True)
class Shortcuts:
    """Which cuts a run takes; with every field at its default (STOCK), none."""

    solver: str = "ddim"  # "ddim": the model's own scheduler; "dpm++": DPM-Solver++ (2M)
    step_fraction: float = 1.0  # the solver runs round(steps x this) steps
    guided_fraction: float = 1.0  # CFG on this first fraction of the steps, then cond only
    deep_cache_interval: int = 1  # the full UNet every N steps (1: every step, DeepCache off)
    gate_fraction: float | None = None  # T-GATE: cross-attention kept after this fraction

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}: use one of {SOLVERS}")
        if not 0 < self.step_fraction <= 1 or not 0 < self.guided_fraction <= 1:
            raise ValueError("step_fraction and guided_fraction must be in (0, 1]")
        if self.deep_cache_interval < 1:
            raise ValueError("deep_cache_interval must be at least 1")
        if self.gate_fraction is not None and not 0 < self.gate_fraction < 1:
            raise ValueError("gate_fraction must be in (0, 1)")

    def steps(self, requested: int) -> int:
        """Denoising steps actually run for a job that asked for `requested`."""
        return max(1, round(requested * self.step_fraction))

    def plan(self, steps: int) -> list[StepKind]:
        """One StepKind per step of a run of `steps` steps (already `self.steps(...)`)."""
        guided_until = max(1, round(steps * self.guided_fraction))
        gate = None
        if self.gate_fraction is not None:
            gate = min(steps - 1, max(1, round(steps * self.gate_fraction)))
            guided_until = min(guided_until, gate)  # T-GATE drops CFG once the gate shuts
        kinds: list[StepKind] = []
        last_full = -self.deep_cache_interval
        for i in range(steps):
            guided = i < guided_until
            attention: CrossAttention = "live"
            if gate is not None:
                attention = "record" if i == gate - 1 else ("reuse" if i >= gate else "live")
            # A full step refreshes the deep features. It is forced where the cached ones
            # would not fit (the batch halves when CFG stops) or where every layer's
            # cross-attention must run to be recorded.
            changed = bool(kinds) and kinds[-1].guided != guided
            full = (i - last_full >= self.deep_cache_interval or changed
                    or attention == "record")
            if full:
                last_full = i
            kinds.append(StepKind(guided=guided, full=full, cross_attention=attention))
        return kinds


STOCK = Shortcuts()

# Each cut alone, as the benchmark measures it (and names it in its tables).
CUTS: dict[str, Shortcuts] = {
    "dpm-solver": Shortcuts(solver="dpm++", step_fraction=0.5),
    "cfg-truncation": Shortcuts(guided_fraction=0.5),
    "deepcache": Shortcuts(deep_cache_interval=3),
    "t-gate": Shortcuts(gate_fraction=0.4),
}

# The speed mode: DPM-Solver++ at half the steps, T-GATE's gate at 40% of them (the
# paper's 10 of 25; CFG stops there too), and DeepCache refreshing the deep features every
# second step.
FAST = Shortcuts(solver="dpm++", step_fraction=0.5, gate_fraction=0.4, deep_cache_interval=2)


MODES: dict[str, Shortcuts] = {"stock": STOCK, **CUTS, "fast": FAST}
