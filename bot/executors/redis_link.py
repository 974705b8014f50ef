"""The bot's and the workers' connection to Redis: one way to open it, a URL without its
password for logs and messages, and the one-line cause of a connection that fails.

Both sides open SAQ's Redis queue on a client of their own making (SAQ takes any
`redis.asyncio` client), so that a connection attempt gives up after a few seconds instead
of the operating system's minutes: a Redis that does not answer is noticed like one that
refuses. No read timeout is set: a worker waits for its next job in a blocking command.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq.job import Job
from saq.queue.redis import RedisQueue

from bot.executors.base import ExecutorUnavailable
from bot.executors.wire import SWEPT

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
RETRY_S = 1.0  # how often a worker tries Redis again while it is away


def redacted(url: str) -> str:
    """A Redis URL without its credentials, for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path}"


class Queue(RedisQueue):
    """SAQ's Redis queue. When a worker's dequeue fails (Redis away), it waits a second
    before the worker tries again, instead of at once in a busy loop, and the outage is
    logged once; `answered` logs its end."""

    def __init__(self, url: str, name: str) -> None:
        super().__init__(aioredis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                           socket_keepalive=True),
                         name=name, swept_error_message=SWEPT)
        self.url = url
        self.away_since: float | None = None  # wall clock

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        try:
            job = await super().dequeue(timeout, poll_interval)
        except (RedisError, OSError) as exc:
            if self.away_since is None:
                self.away_since = time.time()
                log.warning("%s Trying again every %.0f s.", failure(self.url, exc), RETRY_S)
            await asyncio.sleep(RETRY_S)
            raise
        self.answered()
        return job

    def answered(self) -> None:
        """A command went through: the end of an outage, if there was one."""
        if self.away_since is not None:
            log.warning("Redis at %s answers again (away %.0f s)", redacted(self.url),
                        time.time() - self.away_since)
            self.away_since = None


async def check(queue: Any, url: str) -> None:
    """Connect and ping; raises ExecutorUnavailable with the true cause in one line."""
    try:
        await queue.connect()
        await asyncio.wait_for(queue.redis.ping(), CONNECT_TIMEOUT_S)
    except Exception as exc:
        raise ExecutorUnavailable(failure(url, exc)) from exc


def failure(url: str, exc: BaseException) -> str:
    """Why Redis at `url` cannot be used, in one line that names what to check."""
    where = f"Redis at {redacted(url)}"
    if isinstance(exc, AuthenticationError):  # a ConnectionError too: first
        code = getattr(exc, "status_code", None)
        if code == "NOAUTH" or not urlsplit(url).password:
            return (f"{where} asks for a password: put it in I2V_REDIS_URL "
                    "(redis://:PASSWORD@host:port/db).")
        if code == "WRONGPASS":
            return f"{where} refused the password: check the password in I2V_REDIS_URL."
        return (f"{where} has no password set, but I2V_REDIS_URL gives one: remove it from "
                "the URL, or set Redis's requirepass.")
    causes = _chain(exc)
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return (f"{where} refused the connection (nothing listens there): check "
                "I2V_REDIS_URL and that Redis runs.")
    if any(isinstance(c, socket.gaierror) for c in causes):
        return f"{where} is unreachable: its host name does not resolve; check I2V_REDIS_URL."
    if any(isinstance(c, TimeoutError | RedisTimeoutError) for c in causes):
        return (f"{where} is unreachable: no answer within {CONNECT_TIMEOUT_S:.0f} s; check "
                "I2V_REDIS_URL, the network and the firewall.")
    if any(isinstance(c, OSError | RedisConnectionError) for c in causes):
        return (f"{where} is unreachable ({_last_line(exc)}): check I2V_REDIS_URL, the "
                "network and that Redis runs.")
    return f"{where} answered with an error ({type(exc).__name__}: {_last_line(exc)})."


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it (redis-py wraps the socket's error)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _last_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
