"""Job events of the web page, handed to the open pages of the browser session that owns
each job (a person may have the page open in several tabs).

`publish` never waits: each open page has its own bounded queue, and a page that does not
read (a sleeping laptop) loses progress updates, never the other pages' events. The latest
event of each unfinished job is kept, so that a page opened or reloaded mid-job shows the
job's place in line or progress at once; so is its latest preview, which the page fetches
(`preview`) by the URL its events name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from bot.models import EventKind, JobEvent

log = logging.getLogger(__name__)

PAGE_BACKLOG = 256  # events one page may fall behind before its progress updates are dropped


class LiveEvents:
    def __init__(self) -> None:
        self._pages: dict[str, set[asyncio.Queue[JobEvent | None]]] = {}
        self._latest: dict[str, JobEvent] = {}  # job id -> its last event, unfinished jobs
        self._previews: dict[str, JobEvent] = {}  # job id -> its last event with a preview
        self._closed = False

    def publish(self, event: JobEvent) -> None:
        job = event.job
        if event.kind.final:
            self._latest.pop(job.id, None)
            self._previews.pop(job.id, None)
        else:
            self._latest[job.id] = event
            if event.preview is not None:
                self._previews[job.id] = event
        for queue in self._pages.get(job.chat.chat_id, ()):
            _offer(queue, event)

    @contextlib.contextmanager
    def subscribe(self, session: str) -> Iterator[asyncio.Queue[JobEvent | None]]:
        """A queue of the session's events for one open page, starting with the state of
        its unfinished jobs; None in it means the server is stopping."""
        queue: asyncio.Queue[JobEvent | None] = asyncio.Queue(PAGE_BACKLOG)
        if self._closed:
            queue.put_nowait(None)
        for job_id, event in list(self._latest.items()):
            if event.job.chat.chat_id == session:
                shown = self._previews.get(job_id)
                if shown is not None and shown is not event:
                    _offer(queue, shown)
                _offer(queue, event)
        self._pages.setdefault(session, set()).add(queue)
        try:
            yield queue
        finally:
            pages = self._pages.get(session, set())
            pages.discard(queue)
            if not pages:
                self._pages.pop(session, None)

    def preview(self, session: str, job_id: str) -> bytes | None:
        """The latest preview of a job still running, to its own session only."""
        event = self._previews.get(job_id)
        if event is None or event.job.chat.chat_id != session:
            return None
        return event.preview

    def close(self) -> None:
        """End every open page's stream (the browsers reconnect to the next server)."""
        self._closed = True
        for queues in self._pages.values():
            for queue in queues:
                try:
                    queue.put_nowait(None)
                except asyncio.QueueFull:  # the end must get through: make room for it
                    queue.get_nowait()
                    queue.put_nowait(None)


def _offer(queue: asyncio.Queue[JobEvent | None], event: JobEvent) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        if event.kind is EventKind.PROGRESS:
            return  # the next progress update (or preview) says the same, better
        queue.get_nowait()  # drop the oldest to make room for a change that matters
        queue.put_nowait(event)
        log.info("job %s: a web page fell behind; an old update was dropped", event.job.id)
