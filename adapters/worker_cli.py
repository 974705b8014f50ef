"""`i2vbot worker`: serve jobs from the bot's Redis on this machine's GPU (see the README's
"Scaling out"). It needs I2V_REDIS_URL and the engine settings (I2V_MODEL, I2V_DEVICE...);
no tokens, no database: the bot keeps those."""

from __future__ import annotations

import logging
import sys

from adapters.app import renderer
from bot.executors.remote import redacted
from bot.settings import Settings

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> int:
    from bot.executors.saq_worker import worker

    if settings.redis_url is None:
        print("I2V_REDIS_URL is not set: a worker takes its jobs from the bot's Redis.",
              file=sys.stderr)
        return 2
    url = settings.redis_url.get_secret_value()

    saq_worker = worker(url, lambda: renderer(settings), settings.models,
                        heartbeat_s=settings.worker_heartbeat_s)
    try:
        await saq_worker.queue.connect()
        await saq_worker.queue.redis.ping()
    except Exception as exc:
        log.info("worker: Redis unreachable", exc_info=exc)
        print(f"Redis at {redacted(url)} could not be reached: check I2V_REDIS_URL and that "
              "Redis runs.", file=sys.stderr)
        return 1
    print(f"i2v-bot worker: loading {', '.join(settings.models)} ({settings.model}), then "
          f"serving jobs from "
          f"{redacted(url)}. Ctrl-C stops it.", file=sys.stderr)
    await saq_worker.start()  # until SIGINT/SIGTERM; the running step finishes first
    return 0
