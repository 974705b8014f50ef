"""One ordered delivery lane per chat (or per job), so a slow upload, a flooded or a blocked
chat delays only itself.

The core's event bus hands a platform's events to its notifier in order; the notifier puts
each into its lane and returns at once. A lane's task ends after a quiet while.

A live preview is worth showing only while its job still renders: once the job's next phase
(encoding, the video, its end) is in the lane, a preview still waiting there is shown as
plain progress and one being uploaded is given up, so a slow preview never holds back the
video.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.models import EventKind, JobEvent

log = logging.getLogger(__name__)

IDLE_SECONDS = 60.0


class Lanes:
    def __init__(self, handle: Callable[[JobEvent], Awaitable[None]],
                 idle: float = IDLE_SECONDS) -> None:
        self._handle = handle
        self._idle = idle
        self._queues: dict[object, asyncio.Queue[JobEvent]] = {}
        self._tasks: dict[object, asyncio.Task[None]] = {}
        self._showing: dict[object, tuple[JobEvent, asyncio.Task[None]]] = {}
        self._moving_on: set[str] = set()  # jobs past denoising: their previews are stale
        self._closed = False

    def put(self, key: object, event: JobEvent) -> None:
        if self._closed:
            log.info("job %s: %s event after shutdown, not shown", event.job.id, event.kind)
            return
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            self._tasks[key] = asyncio.create_task(self._run(key, queue),
                                                   name=f"lane-{key}")
        if event.kind is EventKind.STARTED:  # a run again (after a lost worker): new previews
            self._moving_on.discard(event.job.id)
        elif not event.kind.live:
            self._moving_on.add(event.job.id)
            showing, task = self._showing.get(key, (None, None))
            if showing is not None and task is not None and showing.job.id == event.job.id \
                    and showing.preview is not None:
                task.cancel()  # the preview's upload: the video is on its way
        queue.put_nowait(event)

    async def _run(self, key: object, queue: asyncio.Queue[JobEvent]) -> None:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), self._idle)
            except TimeoutError:
                if queue.empty():  # no await since the check: no event can slip in
                    del self._queues[key], self._tasks[key]
                    return
                continue
            if event.preview is not None and event.job.id in self._moving_on:
                event = replace(event, preview=None)
            if event.kind.final:
                self._moving_on.discard(event.job.id)
            try:
                await self._show(key, event)
            except Exception:
                log.exception("job %s chat %s: showing the %s event failed", event.job.id,
                              key, event.kind)
            finally:
                queue.task_done()

    async def _show(self, key: object, event: JobEvent) -> None:
        """Handle one event; a preview's is a task of its own, which `put` may cancel."""
        if event.preview is None:
            await self._handle(event)
            return
        task = asyncio.ensure_future(self._handle(event))
        self._showing[key] = (event, task)
        try:
            await task
        except asyncio.CancelledError:
            lane = asyncio.current_task()
            if lane is not None and lane.cancelling():
                raise  # the lane itself is stopping
            log.info("job %s chat %s: preview given up, the video comes first", event.job.id,
                     key)
        finally:
            del self._showing[key]

    async def drain(self) -> None:
        await asyncio.gather(*(q.join() for q in list(self._queues.values())))

    async def close(self, timeout: float = 10) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout)
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._queues.clear()
        self._tasks.clear()
