"""Delivery of job events to the adapters, in order, without ever blocking the worker.

Each platform gets its own queue and consumer task: a slow or failing chat API delays only
that platform's messages, and an exception in a notifier is logged, never raised. A notifier
that can also write to one person directly (an `AdminChannel`: a Telegram private chat, a
Discord DM) carries messages outside any job, such as telling the admins of a pause.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, runtime_checkable

from bot.models import JobEvent

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """An adapter's way to show job events in the chat that owns the job."""

    async def notify(self, event: JobEvent) -> None: ...


@runtime_checkable
class AdminChannel(Protocol):
    """An adapter's way to write to one person of its platform, outside any job."""

    async def tell(self, platform_id: str, message: str) -> None: ...


class Delivery(Protocol):
    """What an adapter tells the core once a video was sent (`Core.delivered`) or can never
    be (`Core.undeliverable`, which gives the credits back)."""

    async def delivered(self, job_id: str) -> None: ...

    async def undeliverable(self, job_id: str, reason: str) -> None: ...


class EventBus:
    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[JobEvent]] = {}
        self._notifiers: dict[str, Notifier] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._telling: set[asyncio.Task[None]] = set()

    def register(self, platform: str, notifier: Notifier) -> None:
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._queues[platform] = queue
        self._notifiers[platform] = notifier
        self._tasks.append(asyncio.create_task(self._deliver(notifier, queue),
                                               name=f"events-{platform}"))

    def publish(self, event: JobEvent) -> None:
        queue = self._queues.get(event.job.platform)
        if queue is None:
            log.info("job %s: no %s adapter running; %s event not shown",
                     event.job.id, event.job.platform, event.kind)
            return
        queue.put_nowait(event)

    def tell(self, person_key: str, message: str) -> bool:
        """Send `message` to one person ("telegram:123") in the background; False when
        their platform is not running here or cannot write to one person."""
        platform, _, platform_id = person_key.partition(":")
        notifier = self._notifiers.get(platform)
        if not isinstance(notifier, AdminChannel):
            return False
        task = asyncio.create_task(self._tell(notifier, person_key, platform_id, message),
                                   name=f"tell-{platform}")
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)
        return True

    @staticmethod
    async def _tell(channel: AdminChannel, key: str, platform_id: str, message: str) -> None:
        try:
            await channel.tell(platform_id, message)
        except Exception as exc:  # e.g. they never opened a private chat with the bot
            log.warning("could not write to %s: %s", key, exc)

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
        if self._telling:
            await asyncio.wait(self._telling, timeout=timeout)
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
