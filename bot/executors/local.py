"""The embedded executor: the engine in this process, one batch at a time on a thread.

The engine blocks for a whole batch, so it runs in a worker thread (never the event loop);
its events come back through `call_soon_threadsafe`, and a stop request goes in through a
`threading.Event` that the engine checks between denoising steps.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Sequence

from bot.executors.base import Renderer, WorkerInfo
from engine.spec.work import RenderSpec, WorkEvent, WorkKind

log = logging.getLogger(__name__)


class LocalExecutor:
    slots = 1
    keeps_running = False  # the GPU thread dies with the process

    def __init__(self, make_renderer: Callable[[], Renderer]) -> None:
        # Built in `start`, off the event loop: importing torch and diffusers takes seconds.
        self._make_renderer = make_renderer
        self._renderer: Renderer | None = None
        self._events: asyncio.Queue[WorkEvent | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()
        self._running: set[str] = set()
        self.done = self.failed = 0

    def free_slots(self) -> int:
        return 0 if self._task is not None and not self._task.done() else 1

    def can_run(self, model: str) -> bool:
        return (self.free_slots() > 0 and self._renderer is not None
                and model in self._renderer.models)

    def warm_model(self) -> str | None:
        return self._renderer.loaded_model if self._renderer else None

    def unreachable_since(self) -> float | None:
        return None  # the worker is this process

    def describe(self) -> str:
        return self._renderer.describe() if self._renderer else "the local GPU (not started)"

    async def start(self) -> None:
        def load() -> Renderer:
            renderer = self._make_renderer()
            renderer.load()
            return renderer

        self._renderer = await asyncio.to_thread(load)

    async def submit(self, specs: Sequence[RenderSpec]) -> None:
        if not self.free_slots():
            raise RuntimeError("the local worker is busy")
        self._stop = threading.Event()
        self._running = {spec.job_id for spec in specs}
        self._task = asyncio.create_task(self._run(list(specs), self._stop),
                                         name="gpu-worker")

    async def cancel(self, job_id: str) -> None:
        if job_id in self._running:
            self._stop.set()

    async def next_event(self) -> WorkEvent | None:
        return await self._events.get()

    async def reattach(self, specs: Sequence[RenderSpec]) -> list[str]:
        return []  # whatever ran here died with the process that ran it

    def workers(self) -> list[WorkerInfo]:
        return [WorkerInfo(name=f"{socket.gethostname()} (this process)",
                           gpu=self.describe(),
                           models=self._renderer.models if self._renderer else (),
                           busy=not self.free_slots(), jobs_done=self.done,
                           jobs_failed=self.failed)]

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self, specs: list[RenderSpec], stop: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        ended: set[str] = set()

        def emit(event: WorkEvent) -> None:
            if event.kind.final:
                ended.add(event.job_id)
                self.done += event.kind is WorkKind.DONE
                self.failed += event.kind is WorkKind.FAILED
            loop.call_soon_threadsafe(self._events.put_nowait, event)

        assert self._renderer is not None, "start() first"
        try:
            await asyncio.to_thread(self._renderer.run, specs, emit, stop.is_set)
        except Exception as exc:  # a bug in the worker: its jobs fail, the bot carries on
            log.exception("jobs %s: the worker thread failed", [s.job_id for s in specs])
            for spec in specs:
                if spec.job_id not in ended:
                    self._events.put_nowait(WorkEvent(
                        WorkKind.FAILED, spec.job_id, reason="internal_error",
                        detail=f"{type(exc).__name__}: {exc}"))
        finally:
            self._running = set()
            # After every event the thread queued (call_soon_threadsafe keeps their order).
            loop.call_soon(self._events.put_nowait, None)
