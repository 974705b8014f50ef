"""`i2vbot worker`: serve jobs from the bot's Redis on this machine's GPU (see the README's
"Scaling out"). It needs I2V_REDIS_URL and the engine settings (I2V_MODEL, I2V_DEVICE...);
no tokens, no database: the bot keeps those.

A start that fails (Redis refuses, does not answer, or refuses the password; the model will
not load) ends with one line that says why, through `ModelLoadError`; the details are in
the log file."""

from __future__ import annotations

import logging
import sys

from adapters.app import ModelLoadError, model_load_error, renderer
from bot.executors.base import ExecutorUnavailable
from bot.settings import Settings

log = logging.getLogger(__name__)

SCRATCH = "worker"  # under I2V_DATA_DIR: the files of the jobs running here


async def run_worker(settings: Settings) -> int:
    from bot.executors.redis_link import check, redacted
    from bot.executors.saq_worker import worker
    from bot.executors.scratch import Scratch

    if settings.redis_url is None:
        print("I2V_REDIS_URL is not set: a worker takes its jobs from the bot's Redis.",
              file=sys.stderr)
        return 2
    url = settings.redis_url.get_secret_value()
    scratch = Scratch(settings.data_dir / SCRATCH)
    try:
        scratch.open()  # first: what a killed worker here left goes, Redis or not
    except OSError as exc:
        raise ModelLoadError(f"Cannot write the worker's folder {scratch.root}: "
                             f"{exc.strerror}; check I2V_DATA_DIR.") from exc

    def ready(engine: str) -> None:  # the terminal's one line, once the model is loaded
        print(f"i2v-bot worker: serving jobs from {redacted(url)} with {engine}. Ctrl-C "
              "stops it.", file=sys.stderr)

    try:
        saq_worker = worker(url, lambda: renderer(settings), settings.models,
                            heartbeat_s=settings.worker_heartbeat_s, scratch=scratch,
                            ready=ready)
        try:
            await check(saq_worker.queue, url)
        except ExecutorUnavailable as exc:
            raise ModelLoadError(str(exc)) from exc
        log.info("worker: loading %s (%s)", ", ".join(settings.models), settings.model)
        try:
            await saq_worker.start()  # until SIGINT/SIGTERM; the running step finishes first
        except Exception as exc:  # its startup: the model would not load
            raise model_load_error(settings, exc) from exc
    finally:
        scratch.close()
    return 0
