"""The GPU-work boundary: the core hands job specs to an executor and hears events back.

The core never decodes a photo, calls the engine or encodes an MP4: an executor's workers do.
An executor may run its workers in this process (`LocalExecutor`, the embedded default) or
on other machines; the scheduler, the quotas and the adapters cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.spec.work import RenderSpec, WorkEvent


class Renderer(Protocol):
    """What runs the GPU work of one worker, the local thread's or an `i2vbot worker`'s:
    `engine.worker.BatchRenderer`, or a test's scripted stand-in."""

    @property
    def models(self) -> tuple[str, ...]: ...

    @property
    def loaded_model(self) -> str | None: ...

    def load(self) -> None: ...

    def describe(self) -> str: ...

    def run(self, specs: Sequence[RenderSpec], emit: Callable[[WorkEvent], None],
            should_stop: Callable[[], bool]) -> None:
        """Render one batch; blocks (call it from a worker thread); never raises for a
        job's own failure (that is a FAILED event)."""
        ...


class ExecutorUnavailable(Exception):
    """The executor cannot start (e.g. Redis is unreachable); the message names the
    setting to check, never a password."""


@dataclass(frozen=True)
class WorkerInfo:
    """One GPU worker, as the admins' `stats` and `i2vbot doctor` show it."""

    name: str  # the host (and process) it runs on
    gpu: str
    models: tuple[str, ...]
    busy: bool
    jobs_done: int
    jobs_failed: int
    free_memory_gib: float | None = None
    running: str | None = None  # the job (or batch) it runs now


class Executor(Protocol):
    @property
    def keeps_running(self) -> bool:
        """True when work survives the bot's own stop (remote workers): then `stop` only
        stops watching, and the next start `reattach`es the jobs."""
        ...

    @property
    def slots(self) -> int:
        """How many batches may run at once (one per worker)."""
        ...

    def free_slots(self) -> int:
        """How many more batches `submit` takes now."""
        ...

    def can_run(self, model: str) -> bool:
        """Whether a free worker offers this model (a card's name)."""
        ...

    def unreachable_since(self) -> float | None:
        """Since when (a Unix time) the workers cannot be reached, their jobs waiting in
        line meanwhile; None while they can (always, for workers in this process)."""
        ...

    def warm_model(self) -> str | None:
        """The model already in a free worker's GPU memory, worth preferring (None: none)."""
        ...

    def describe(self) -> str: ...

    async def start(self) -> None:
        """Get ready (load the model, connect); raises if it cannot."""
        ...

    async def submit(self, specs: Sequence[RenderSpec]) -> None:
        """Run one batch of compatible jobs on a free worker."""
        ...

    async def cancel(self, job_id: str) -> None:
        """Stop a submitted job between two steps; a STOPPED event follows (a batch stops
        as a whole: its other jobs stop too)."""
        ...

    async def next_event(self) -> WorkEvent | None:
        """The next event of any job; None means a slot became free."""
        ...

    async def stop(self) -> None:
        """Stop running work between steps (STOPPED events follow through `next_event`),
        or, when `keeps_running`, only stop watching it."""
        ...

    async def reattach(self, specs: Sequence[RenderSpec]) -> list[str]:
        """Jobs a previous process left running: the ids of those this executor still has
        (their events follow); the others are lost."""
        ...

    def workers(self) -> list[WorkerInfo]:
        """The GPU workers serving this bot now."""
        ...
