"""Delivery of job events to the adapters, in order, without ever blocking the worker.

Each platform gets its own queue and consumer task: a slow or failing chat API delays only
that platform's messages, and an exception in a notifier is logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.models import JobEvent
from bot.ports import Notifier

log = logging.getLogger(__name__)


class EventBus:
    def __init__(self) -> None:
        self._notifiers: dict[str, Notifier] = {}
        self._queues: dict[str, asyncio.Queue[JobEvent]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def register(self, platform: str, notifier: Notifier) -> None:
        self._notifiers[platform] = notifier
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._queues[platform] = queue
        self._tasks.append(asyncio.create_task(self._deliver(notifier, queue),
                                               name=f"events-{platform}"))

    def publish(self, event: JobEvent) -> None:
        queue = self._queues.get(event.job.platform)
        if queue is None:
            log.info("job %s: no %s adapter running; %s event not shown",
                     event.job.id, event.job.platform, event.kind)
            return
        queue.put_nowait(event)

    async def drain(self) -> None:
        """Wait until every published event has been handed to its notifier."""
        await asyncio.gather(*(q.join() for q in self._queues.values()))

    async def close(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.drain(), timeout=10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @staticmethod
    async def _deliver(notifier: Notifier, queue: asyncio.Queue[JobEvent]) -> None:
        while True:
            event = await queue.get()
            try:
                await notifier.notify(event)
            except Exception:
                log.exception("job %s: showing the %s event failed", event.job.id, event.kind)
            finally:
                queue.task_done()
