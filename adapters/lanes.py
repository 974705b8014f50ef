"""One ordered delivery lane per chat (or per job), so a slow upload, a flooded or a blocked
chat delays only itself.

The core's event bus hands a platform's events to its notifier in order; the notifier puts
each into its lane and returns at once. A lane's task ends after a quiet while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.models import JobEvent

log = logging.getLogger(__name__)

IDLE_SECONDS = 60.0


class Lanes:
    def __init__(self, handle: Callable[[JobEvent], Awaitable[None]],
                 idle: float = IDLE_SECONDS) -> None:
        self._handle = handle
        self._idle = idle
        self._queues: dict[object, asyncio.Queue[JobEvent]] = {}
        self._tasks: dict[object, asyncio.Task[None]] = {}
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
            try:
                await self._handle(event)
            except Exception:
                log.exception("job %s chat %s: showing the %s event failed", event.job.id,
                              key, event.kind)
            finally:
                queue.task_done()

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
