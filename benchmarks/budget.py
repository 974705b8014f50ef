"""A run's time limit: each row starts only if it can end before the deadline, with fewer
timed runs where all would not fit, and the closing stock row keeps its time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Estimate:
    load: float  # building the model (and compiling, for a compiled row)
    per_video: float  # one untimed or timed run

    def seconds(self, runs: int) -> float:
        return self.load + runs * self.per_video


class Budget:
    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.clock = clock
        self.deadline = None if seconds is None else clock() + seconds

    def left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - self.clock()

    def runs_that_fit(self, estimate: Estimate, warmups: int, runs: int,
                      reserve: float = 0.0) -> int:
        """How many timed runs (up to `runs`) fit after the load and the warm-ups, keeping
        `reserve` seconds for later rows; 0: the row must be skipped."""
        if self.deadline is None:
            return runs
        room = self.left() - reserve - estimate.seconds(warmups)
        if room < 0:
            return 0
        if estimate.per_video <= 0:
            return runs
        return min(runs, int(room // estimate.per_video))

    def fits(self, estimate: Estimate, warmups: int, runs: int, reserve: float = 0.0) -> bool:
        """Whether a row can start: its warm-ups and one timed run (none when `runs` is 0,
        an untimed row) end before the deadline, `reserve` kept."""
        if runs == 0:
            return self.left() - reserve >= estimate.seconds(warmups)
        return self.runs_that_fit(estimate, warmups, runs, reserve) > 0


def plan_weight(kinds: list[Any]) -> float:
    """Rough UNet work of a step plan in full guided steps: half for a step without the
    unconditional pass, a third for a shallow DeepCache step (I2VGen-XL's fast.py StepKind)."""
    return sum((1.0 if k.guided else 0.5) * (1.0 if k.full else 0.3) for k in kinds)
