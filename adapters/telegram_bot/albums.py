"""Albums arrive as one update per photo sharing a media_group_id: gather them briefly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Message

log = logging.getLogger(__name__)

GATHER_SECONDS = 1.0


class Albums:
    def __init__(self, process: Callable[[list[Message]], Awaitable[None]],
                 wait: float = GATHER_SECONDS) -> None:
        self._process = process
        self.wait = wait
        self._groups: dict[tuple[int, str], list[Message]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, message: Message) -> None:
        key = (message.chat_id, message.media_group_id or "")
        group = self._groups.setdefault(key, [])
        group.append(message)
        if len(group) == 1:
            task = asyncio.create_task(self._flush(key), name=f"album-{key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush(self, key: tuple[int, str]) -> None:
        await asyncio.sleep(self.wait)
        messages = sorted(self._groups.pop(key), key=lambda m: m.message_id)
        try:
            await self._process(messages)
        except Exception:
            log.exception("chat %s: album %s failed", key[0], key[1])

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
