"""The GPU-work boundary: the core hands job specs to an executor and hears events back.

The core never decodes a photo, calls the engine or encodes an MP4: an executor's workers do.
An executor may run its workers in this process (`LocalExecutor`, the embedded default) or
on other machines; the scheduler, the quotas and the adapters cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.work import RenderSpec, WorkEvent


class Executor(Protocol):
    @property
    def slots(self) -> int:
        """How many batches may run at once (one per worker)."""
        ...

    def free_slots(self) -> int:
        """How many more batches `submit` takes now."""
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
        """Stop running work between steps; the STOPPED events still come through
        `next_event`, followed by None per slot freed."""
        ...
