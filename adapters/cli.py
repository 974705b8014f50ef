"""The `i2vbot` command: serve the chat bots, or animate one photo from the terminal.

`i2vbot animate` goes through the very path a chat message takes (caption flags, presets,
the quota of a local user, the queue, the engine, the MP4); its notifier is a progress bar.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import shutil
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from adapters.app import App, engine_config
from adapters.bench_cli import add_bench_parser, bench
from bot.logs import RedactSecrets, setup_logging
from bot.models import EventKind, JobEvent, JobRequest, Person
from bot.settings import Settings
from bot.texts import error_text, presets_text, status_text
from engine.errors import UserError

log = logging.getLogger(__name__)


class TerminalNotifier:
    """Shows one job's events in the terminal and resolves when the job ends."""

    def __init__(self) -> None:
        self.finished: asyncio.Future[JobEvent] = asyncio.get_running_loop().create_future()
        self._bar: tqdm | None = None

    async def notify(self, event: JobEvent) -> None:
        if event.kind is EventKind.PROGRESS:
            if self._bar is None:
                self._bar = tqdm(total=event.total_steps, desc="denoising", unit="step")
            self._bar.update(event.step - self._bar.n)
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if event.kind in (EventKind.DONE, EventKind.FAILED, EventKind.CANCELLED):
            if not self.finished.done():
                self.finished.set_result(event)
            if event.kind is not EventKind.DONE:
                print(status_text(event), file=sys.stderr)
            return
        print(status_text(event) + (f"\n{event.message}" if event.message else ""),
              file=sys.stderr)


async def animate(settings: Settings, photo: Path, caption: str, out: Path | None) -> int:
    try:
        data = photo.read_bytes()
    except OSError as exc:
        print(f"Cannot read {photo}: {exc.strerror}. Give the path of a JPEG, PNG or WebP "
              "photo.", file=sys.stderr)
        return 2
    app = await App.build(settings)
    notifier = TerminalNotifier()
    app.events.register("cli", notifier)
    try:
        print(f"Loading the model {settings.model}…", file=sys.stderr)
        await app.start()
        person = Person("cli", getpass.getuser(), name=getpass.getuser())
        try:
            await app.core.submit(JobRequest(person=person, chat={}, image=data,
                                             caption=caption))
        except UserError as exc:
            print(error_text(exc), file=sys.stderr)
            return 2
        event = await notifier.finished
    finally:
        await app.close()
    if event.kind is not EventKind.DONE or event.result is None:
        return 1
    video = event.result.path
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(video, out)
        video = out
    print(f"Video: {video}\nParameters: {event.result.params_path}")
    return 0


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run every configured platform until SIGINT/SIGTERM (or until `stop` is set)."""
    adapters = []
    if settings.telegram_token:
        from adapters.telegram_bot import TelegramAdapter
        adapters.append(TelegramAdapter)
    if settings.discord_token:
        from adapters.discord_bot import DiscordAdapter
        adapters.append(DiscordAdapter)
    if not adapters:
        print("No chat platform is configured. Set TELEGRAM_BOT_TOKEN and/or "
              "DISCORD_BOT_TOKEN in the environment or in .env (see .env.example), "
              "or try `i2vbot animate PHOTO \"CAPTION\"`.", file=sys.stderr)
        return 2
    app = await App.build(settings)
    running = [cls(settings, app) for cls in adapters]
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not on Windows, nor outside the main thread: Ctrl+C then just ends the loop.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
    try:
        for adapter in running:
            app.events.register(adapter.platform, adapter)
        # Chats first: people can send photos (and see their place in line) while the
        # model loads, which takes a minute or more.
        for adapter in running:
            await adapter.start()
        await app.start()
        log.info("serving %s", ", ".join(a.platform for a in running))
        await stop.wait()
        log.info("shutting down")
    finally:
        # The GPU's job first: it finishes its step (or its video) and every event it
        # produced is handed to the chats while they are still connected.
        await app.stop_work()
        for adapter in running:
            with contextlib.suppress(Exception):
                await adapter.stop()
        await app.close()
    return 0


async def doctor(settings: Settings) -> int:
    import imageio_ffmpeg
    import torch

    from bot.migrations import LATEST
    from bot.store import Store
    from engine.loader import model_status

    print(f"torch {torch.__version__}")
    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        print(f"GPU: {torch.cuda.get_device_name()} ({free / 2**30:.1f} of "
              f"{total / 2**30:.1f} GiB free)")
    else:
        print("GPU: none found (CUDA unavailable); generation runs on the CPU, slowly")
    try:
        print(f"ffmpeg: {imageio_ffmpeg.get_ffmpeg_exe()} "
              f"(version {imageio_ffmpeg.get_ffmpeg_version()})")
    except RuntimeError as exc:
        print(f"ffmpeg: missing ({exc})")
    print(f"model: {model_status(engine_config(settings))}")
    store = await Store.open(settings.db_path)
    try:
        version = await store.scalar("PRAGMA user_version")
        jobs = await store.scalar("SELECT count(*) FROM jobs")
        active = await store.count_active()
        print(f"database: {settings.db_path} (schema {version}/{LATEST}, {jobs} jobs, "
              f"{active} queued or running)")
    finally:
        await store.close()
    for name, value in (("TELEGRAM_BOT_TOKEN", settings.telegram_token),
                        ("DISCORD_BOT_TOKEN", settings.discord_token)):
        print(f"{name}: {'set' if value else 'not set'}")
    print(f"admins: {', '.join(settings.admins) or 'none (set I2V_ADMINS)'}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="i2vbot", description="Animate photos with I2VGen-XL "
                                "from Telegram, Discord or the terminal.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run every chat platform whose token is set")
    a = sub.add_parser("animate", help="make one video from a photo and a caption")
    a.add_argument("photo", type=Path)
    a.add_argument("caption", help='prompt and flags, e.g. "a cat turning --seed 7"')
    a.add_argument("-o", "--output", type=Path, help="also copy the MP4 here")
    sub.add_parser("presets", help="list the quality presets and their cost")
    sub.add_parser("doctor", help="check the GPU, ffmpeg, model, database and tokens")
    sub.add_parser("sync-commands", help="register the Discord slash commands now")
    add_bench_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    if args.command == "bench":
        return bench(args, argv)
    if args.command == "presets":
        print(presets_text())
        return 0
    try:
        settings = Settings()
    except ValueError as exc:  # pydantic's ValidationError says which variable is wrong
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        return 2
    setup_logging(settings.data_dir, settings.log_level, settings.secrets(),
                  console=args.command == "serve")
    try:
        if args.command == "animate":
            return asyncio.run(animate(settings, args.photo, args.caption, args.output))
        if args.command == "serve":
            return asyncio.run(serve(settings))
    except Exception as exc:  # a model that will not load, a token a platform refused...
        # The whole story goes to the log; the terminal gets one line. Libraries put tokens
        # in their messages (python-telegram-bot's InvalidToken does), hence the scrub.
        log.error("%s stopped: %s", args.command, exc, exc_info=exc)
        print(RedactSecrets(settings.secrets()).scrub(str(exc)), file=sys.stderr)
        return 1
    if args.command == "doctor":
        return asyncio.run(doctor(settings))
    if args.command == "sync-commands":
        from adapters.discord_bot import sync_commands
        return asyncio.run(sync_commands(settings))
    return 2


if __name__ == "__main__":
    sys.exit(main())
