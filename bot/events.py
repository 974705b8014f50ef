"""Delivery of job events to the adapters, in order, without ever blocking the worker.

Each platform gets its own queue and consumer task: a slow or failing chat API delays only
that platform's messages, and an exception in a notifier is logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.models import JobEvent

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """An adapter's way to show job events in the chat that owns the job."""

    async def notify(self, event: JobEvent) -> None: ...


class Delivery(Protocol):
    """What an adapter tells the core once a video was sent (`Core.delivered`) or can never
    be (`Core.undeliverable`, which gives the credits back)."""

    async def delivered(self, job_id: str) -> None: ...

    async def undeliverable(self, job_id: str, reason: str) -> None: ...


class EventBus:
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[JobEvent]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def register(self, platform: str, notifier: Notifier) -> None:
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

    async def drain(self, timeout: float) -> bool:
        """Wait until every published event has reached its notifier; False on timeout."""
        try:
            await asyncio.wait_for(asyncio.gather(*(q.join() for q in self._queues.values())),
                                   timeout)
        except TimeoutError:
            return False
        return True

    def drop_live_updates(self) -> int:
        """At shutdown: forget queued place-in-line and progress updates, which only say
        what the next start says again; results, failures and cancels stay."""
        dropped = 0
        for queue in self._queues.values():
            kept = []
            while not queue.empty():
                event = queue.get_nowait()
                queue.task_done()
                if event.kind.final:
                    kept.append(event)
                else:
                    dropped += 1
            for event in kept:
                queue.put_nowait(event)
        return dropped

    async def close(self, timeout: float = 10) -> None:
        self.drop_live_updates()
        if not await self.drain(timeout):
            log.warning("some job events were not shown within %.0f s of shutdown", timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

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
