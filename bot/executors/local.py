"""The embedded executor: the engine in this process, one batch at a time on a thread.

The engine blocks for a whole batch, so it runs in a worker thread (never the event loop);
its events come back through `call_soon_threadsafe`, and a stop request goes in through a
`threading.Event` that the engine checks between denoising steps.

Loading the model and running a batch happen in daemon threads of their own, not in the
event loop's default executor: a model load, a long step or an encoding cannot be stopped
midway, and Ctrl-C must not wait for one (asyncio.run joins the default executor's threads
at exit, and so does the interpreter for any non-daemon thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.executors.base import Renderer, WorkerInfo
from engine.spec.work import RenderSpec, WorkEvent, WorkKind

log = logging.getLogger(__name__)

GPU_THREAD = "i2v-gpu"  # the name of the threads below
T = TypeVar("T")


async def in_daemon_thread(work: Callable[[], T]) -> T:
    """`work()` in a daemon thread of its own; its result (or error) on this loop."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            outcome = functools.partial(_settle, done, None, work())
        except BaseException as exc:  # handed to the awaiting coroutine
            outcome = functools.partial(_settle, done, exc)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(outcome)

    threading.Thread(target=run, name=GPU_THREAD, daemon=True).start()
    return await done


def _settle(done: asyncio.Future[T], error: BaseException | None, *result: T) -> None:
    if done.cancelled():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result[0])


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

        self._renderer = await in_daemon_thread(load)

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
            renderer = self._renderer
            await in_daemon_thread(lambda: renderer.run(specs, emit, stop.is_set))
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
