"""`i2vbot serve`: every configured platform in one process, one queue, one GPU engine; the
web page too, when enabled (by default when no chat token is set).

If a configured platform cannot start (a refused token, an unreachable server), `serve`
stops with one line per platform and a non-zero exit code rather than run half the bot
unnoticed; a supervisor (systemd's Restart=on-failure) starts it again. Once running, a
platform that loses its connection reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from adapters.app import App
from adapters.startup import StartError
from bot.events import Notifier
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class Adapter(Notifier, Protocol):
    platform: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def configured(settings: Settings, app: App) -> list[Adapter]:
    """Each configured platform, given the core's ports and its own settings section."""
    adapters: list[Adapter] = []
    if settings.telegram_token:
        from adapters.telegram_bot import TelegramAdapter, TelegramConfig
        telegram = TelegramAdapter(TelegramConfig.from_settings(settings), app.core, app.admin)
        app.payments.connect(telegram.platform, telegram)  # Stars refunds go through it
        adapters.append(telegram)
    if settings.discord_token:
        from adapters.discord_bot import DiscordAdapter, DiscordConfig
        adapters.append(DiscordAdapter(DiscordConfig.from_settings(settings), app.core,
                                       app.admin))
    if settings.web_enabled:
        from adapters.web import WebAdapter, WebConfig
        adapters.append(WebAdapter(WebConfig.from_settings(settings), app.core))
    return adapters


SIGNALS = (signal.SIGINT, signal.SIGTERM)
_signalled = threading.Event()  # a signal stopped this process (not a test's own `stop`)


def signalled() -> bool:
    return _signalled.is_set()


def stop_on_signals(stop: asyncio.Event) -> None:
    """The first SIGINT or SIGTERM sets `stop`; the next one ends the process at once (the
    signal's default action), whatever it is doing: a second Ctrl-C always works."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        _signalled.set()
        stop.set()
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_DFL)

    for sig in SIGNALS:
        # Not on Windows, nor outside the main thread: Ctrl+C then just ends the loop.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, first)


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None as soon as `stop` is set (`work` is then cancelled: a model
    load in its thread is abandoned, not waited for)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return None


async def serve(settings: Settings, stop: asyncio.Event | None = None,
                build_adapters: Callable[[Settings, App], list[Adapter]] = configured) -> int:
    """Run every configured platform until SIGINT/SIGTERM (or until `stop` is set)."""
    if not (settings.telegram_token or settings.discord_token or settings.web_enabled):
        print("Nothing to serve: I2V_WEB=off and no chat platform is configured. Set "
              "TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN in the environment or in .env "
              "(see .env.example), or I2V_WEB=auto for the web page.", file=sys.stderr)
        return 2
    if stop is None:
        stop = asyncio.Event()
        stop_on_signals(stop)
    app = await App.build(settings)
    adapters = build_adapters(settings, app)
    started: list[Adapter] = []
    try:
        for adapter in adapters:
            app.events.register(adapter.platform, adapter)
        await app.load()
        if app.workers_elsewhere:  # a bot that cannot reach its workers greets nobody
            await app.start_executor()
        # Chats and the page first, so that people are answered while the model loads (a
        # minute or more), but no job is taken before it can be served: a model that
        # cannot load ends `serve` with nobody's photo accepted.
        app.core.hold_jobs()
        failures = await _start_all(adapters, started)
        if failures:
            for line in failures:
                print(line, file=sys.stderr)
            return 1
        if await until_stopped(_started(app), stop) is None or stop.is_set():
            log.info("stopped while the model loaded")
            return 0
        log.info("serving %s", ", ".join(a.platform for a in started))
        if app.marking.notice:  # after the start: a failure to start stays one line
            print(app.marking.notice, file=sys.stderr)
        print(f"i2v-bot is serving {', '.join(a.platform for a in started)} with "
              f"{app.lifecycle.describe_workers()}. Ctrl-C stops it.", file=sys.stderr)
        await stop.wait()
        log.info("shutting down")
    finally:
        # The GPU's job first: it stops after its step and every result it produced is
        # handed to the chats while they are still connected.
        await app.stop_work()
        for adapter in started:
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s did not stop cleanly", adapter.platform)
        await app.close()
    return 0


async def _started(app: App) -> bool:
    await app.start()
    return True


async def _start_all(adapters: list[Adapter], started: list[Adapter]) -> list[str]:
    failures = []
    for adapter in adapters:
        try:
            await adapter.start()
        except StartError as exc:  # the terminal gets one line; the log file the details
            log.info("%s could not start: %s", adapter.platform, exc, exc_info=exc.__cause__)
            failures.append(str(exc))
        else:
            started.append(adapter)
    return failures
