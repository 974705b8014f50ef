"""The `i2vbot` command: serve the bots, or animate one photo from the terminal.

`i2vbot animate` goes through the very path a chat message takes (caption flags, presets,
the quota of a local user, the queue, the engine, the MP4); its notifier is a progress bar,
which names the file of the latest live preview (rewritten in place: an image viewer that
reloads shows the video forming; removed when the job ends).
The caption and the photo are checked before the model loads, so a typo is answered at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from adapters.app import (
    STOP_WORK_S,
    App,
    ModelLoadError,
    classifier_config,
    engine_config,
    translator_config,
)
from adapters.bench_cli import add_bench_parser, bench
from adapters.serve import serve, signalled, stop_on_signals, until_stopped
from bot.captions import parse_caption
from bot.errors import UserError
from bot.jobs.lifecycle import UNREACHABLE_FLAG
from bot.logs import FILE_ONLY, RedactSecrets, quiet_libraries, setup_logging
from bot.models import ChatRef, EventKind, Job, JobEvent, JobRequest, JobStatus, Person
from bot.outputs import write_atomic
from bot.provenance.credentials import LOCAL_FOLDER, ProvenanceError, existing_credentials
from bot.settings import Settings, SettingsError, load_settings
from bot.store import StoreError
from bot.texts import error_text
from bot.views import advice, duration, presets_reply, read_lines, status_line
from engine.spec.cards import card, cards

log = logging.getLogger(__name__)

PLATFORM = "cli"
INTERRUPTED = 130  # what a shell reports for a program ended by Ctrl-C


class TerminalNotifier:
    """Shows the events of this run's job in the terminal; a video of an earlier, interrupted
    run that finishes meanwhile is reported and counted as delivered (its file is kept)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.job_id: str | None = None
        self.quiet = False  # once the terminal has said what happened itself
        self.finished: asyncio.Future[JobEvent] = asyncio.get_running_loop().create_future()
        self._bar: tqdm | None = None

    async def notify(self, event: JobEvent) -> None:
        if self.quiet:
            return
        if event.job.id != self.job_id:
            if event.kind is EventKind.DONE and event.result is not None:
                print(f"An earlier job {event.job.id} finished: {event.result.path}",
                      file=sys.stderr)
                await self.app.core.delivered(event.job.id)
            return
        if event.kind is EventKind.PROGRESS:
            if self._bar is None:
                self._bar = tqdm(total=event.total_steps, desc="denoising", unit="step")
            if event.preview is not None:
                self._show_preview(event.job.id, event.preview)
            self._bar.update(event.step - self._bar.n)
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if event.kind.final:
            self.app.outputs.preview_path(event.job.id).unlink(missing_ok=True)
            if not self.finished.done():
                self.finished.set_result(event)
            if event.kind is not EventKind.DONE:
                print(status_line(event), file=sys.stderr)
            return
        print(status_line(event), file=sys.stderr)

    def _show_preview(self, job_id: str, image: bytes) -> None:
        path = self.app.outputs.preview_path(job_id)
        try:
            write_atomic(path, image)  # a viewer never reads half a file
        except OSError as exc:  # a full disk: the video matters, not this
            log.warning("job %s: the preview could not be written: %s", job_id, exc)
            return
        assert self._bar is not None
        self._bar.set_postfix_str(f"preview {path}")

    def clear_bar(self) -> None:
        """Take the progress bar off the terminal (the next line says what happened)."""
        if self._bar is not None:
            self._bar.leave = False
            self._bar.close()
            self._bar = None


Start = Callable[[App, Person, ChatRef], Awaitable[Job]]


async def animate(settings: Settings, photo: Path, caption: str, out: Path | None) -> int:
    try:
        data = photo.read_bytes()
    except OSError as exc:
        print(f"Cannot read {photo}: {exc.strerror}. Give the path of a JPEG, PNG or WebP "
              "photo.", file=sys.stderr)
        return 2

    def start(app: App, person: Person, chat: ChatRef) -> Awaitable[Job]:
        return app.core.submit(JobRequest(person=person, chat=chat, image=data,
                                          caption=caption))

    with contextlib.suppress(UserError):  # a bad caption is answered by submit, below
        model = parse_caption(caption).model
        if model in settings.models:  # load the model this one job needs, not the default
            others = [name for name in settings.models if name != model]
            settings = settings.model_copy(update={"models": [model, *others]})
    return await make(settings, start, out)


async def extend(settings: Settings, job_id: str, caption: str | None, out: Path | None) -> int:
    def start(app: App, person: Person, chat: ChatRef) -> Awaitable[Job]:
        return app.core.extend(person, job_id, caption, chat)

    return await make(settings, start, out)


async def make(settings: Settings, start: Start, out: Path | None) -> int:
    """One video through the chat path: the job is checked and queued before the model
    loads (a typo is answered at once), then made, then copied where it was asked for.

    Ctrl-C (or SIGTERM) at any moment, while the model loads, while the job waits in line,
    while it is denoised or encoded, cancels the job and returns its credits at once, in one
    line, without waiting for the GPU thread; a second Ctrl-C ends the process outright."""
    app = await App.build(settings)
    notifier = TerminalNotifier(app)
    app.events.register(PLATFORM, notifier)
    stop = asyncio.Event()
    stop_on_signals(stop)
    job: Job | None = None
    abandoned = False
    try:
        await app.load()
        await app.load_moderation()  # small, and the photo cannot be checked without it
        user = getpass.getuser()
        try:
            job = await start(app, Person(PLATFORM, user, name=user),
                              ChatRef(PLATFORM, chat_id=user))
        except UserError as exc:
            print(error_text(exc), file=sys.stderr)
            return 2
        notifier.job_id = job.id
        if app.marking.notice:  # once the job is taken: a refusal stays one line
            print(app.marking.notice, file=sys.stderr)
        for line in advice(job.params, "en"):  # once, before the wait
            print(line, file=sys.stderr)
        print(f"Loading the model {job.params.model} "
              f"({settings.weights(job.params.model)})…", file=sys.stderr)
        event = await until_stopped(_made(app, notifier), stop)
        if event is None:
            abandoned = True
            return await _interrupted(app, notifier, job)
        if event.kind is not EventKind.DONE or event.result is None:
            return 1
        video = event.result.path
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(video, out)
            video = out
        await app.core.delivered(job.id)  # the video is where the person asked for it
        print(f"Video: {video} (job {job.id}, made in {duration(event.job.run_seconds)})\n"
              f"Parameters: {event.result.params_path}")
        for line in read_lines(event.job.params, "en"):  # what the model read, if not yours
            print(line)
        return 0
    except (KeyboardInterrupt, asyncio.CancelledError):  # where no signal handler could be set
        abandoned = True
        return await _interrupted(app, notifier, job)
    finally:
        if job is not None and not notifier.finished.done():
            # The model would not load: nobody waits for this job any more.
            notifier.quiet = True
            await _cancel_quietly(app, job)
        await app.close(stop_work_s=0 if abandoned else STOP_WORK_S)


async def _made(app: App, notifier: TerminalNotifier) -> JobEvent:
    await app.start()
    return await notifier.finished


async def _interrupted(app: App, notifier: TerminalNotifier, job: Job | None) -> int:
    """Cancel the terminal's job now, wherever it is, and say so in one line."""
    notifier.quiet = True
    notifier.clear_bar()
    log.info("interrupted: cancelling job %s", job.id if job else "-")
    ended = job
    if job is not None:
        ended = await app.lifecycle.abandon(job)
        if not notifier.finished.done():
            notifier.finished.cancel()
    if ended is not None and ended.status is not JobStatus.CANCELLED:  # it ended just before
        print(f"Interrupted: job {ended.id} had already ended ({ended.status}).",
              file=sys.stderr)
    else:
        print(f"Interrupted: job {job.id if job else '-'} cancelled, its credits returned.",
              file=sys.stderr)
    return INTERRUPTED


async def _cancel_quietly(app: App, job: Job) -> None:
    try:
        await app.core.cancel_job(job, "the terminal")
    except UserError:  # it ended meanwhile
        pass


async def doctor(settings: Settings) -> int:
    import imageio_ffmpeg
    import torch

    from bot.store import Store
    from bot.store.migrations import LATEST
    from engine.loader import model_status
    from engine.moderation.classifier import classifier_status
    from engine.spec.moderation import DEFAULT as CLASSIFIER

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
    for name in settings.models:
        model = card(name)
        print(f"model {name}: {model_status(engine_config(settings, name))}; "
              f"{model.title}, {model.license}, {model.needs}")
    translating = translator_config(settings)
    if translating is None:
        print("prompt translation: off (I2V_TRANSLATE=off): I2VGen-XL reads prompts as written")
    else:
        from engine.translation.translator import Translator

        for line in Translator(translating).status():
            print(f"prompt translation, {line}")
    if settings.moderation == "off":
        print("moderation: off (I2V_MODERATION); photos and videos are not checked")
    else:
        config = classifier_config(settings)
        about = f"; {CLASSIFIER.license}, {CLASSIFIER.size}" \
            if config.model == CLASSIFIER.hub_id else ""
        print(f"moderation: {settings.moderation} refusing at "
              f"{settings.moderation_thresholds.describe()} on {config.device}; "
              f"classifier {classifier_status(config)}{about}")
    store = await Store.open(settings.db_path)
    try:
        print(f"database: {settings.db_path} (schema {await store.schema_version()}/{LATEST}, "
              f"{await store.count_jobs()} jobs, {await store.count_active()} queued or "
              "running)")
        away = await store.get_flag(UNREACHABLE_FLAG)
    finally:
        await store.close()
    for name, value in (("TELEGRAM_BOT_TOKEN", settings.telegram_token),
                        ("DISCORD_BOT_TOKEN", settings.discord_token)):
        print(f"{name}: {'set' if value else 'not set'}")
    print(f"admins: {', '.join(settings.admins) or 'none (set I2V_ADMINS)'}")
    print(f"content credentials: {provenance_status(settings)}")
    print(f"visible label: {settings.watermark!r}" if settings.watermark else
          "visible label: none (I2V_WATERMARK)")
    await _doctor_workers(settings, float(away) if away else None)
    return 0


def provenance_status(settings: Settings) -> str:
    """Which certificate signs the videos and until when; nothing is made here."""
    if not settings.provenance:
        return "off (I2V_PROVENANCE=off): videos carry no signed manifest, only the MP4 tags"
    try:
        credentials = existing_credentials(settings.c2pa_cert, settings.c2pa_key,
                                           settings.data_dir)
    except ProvenanceError as exc:
        return f"broken: {exc}"
    if credentials is None:
        return (f"none yet: the first start makes a local certificate in "
                f"{settings.data_dir / LOCAL_FOLDER} (or set I2V_C2PA_CERT and I2V_C2PA_KEY)")
    return (f"signed with {credentials.source} ({credentials.subject!r}, issued by "
            f"{credentials.issuer!r}, {credentials.algorithm}), valid until "
            f"{credentials.not_after:%Y-%m-%d}")


def verify_file(path: Path) -> int:
    """`i2vbot verify`: one short block; 0 only for valid credentials."""
    from bot.provenance.verify import verify

    try:
        verdict = verify(path, _own_anchor())
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}.", file=sys.stderr)
        return 2
    if not verdict.found:
        why = f" ({verdict.problems[0]})" if verdict.problems else ""
        print(f"{path}: no Content Credentials{why}. Nothing in it says who made it or how.")
        return 1
    lines = [f"{path}: Content Credentials (C2PA)",
             f"  made by:    {verdict.generator or 'unknown'}"
             + (f", signed as {verdict.signer}" if verdict.signer else ""),
             f"  model:      {verdict.model or 'not named'}"
             + (" (made by AI: trainedAlgorithmicMedia)" if verdict.made_by_ai else ""),
             f"  when:       {verdict.when or 'not said'}"]
    if verdict.parent:
        lines.append(f"  continues:  {verdict.parent}")
    if verdict.valid:
        trust = "this bot's own certificate" if verdict.trusted else \
            "the certificate is on no trust list here (normal for an operator's own)"
        lines.append(f"  signature:  valid; {trust}")
    else:
        lines.append(f"  signature:  NOT valid: {'; '.join(verdict.problems) or 'unknown'}")
    lines.append(f"  changed after signing: {'YES' if verdict.changed else 'no'}")
    print("\n".join(lines))
    return 0 if verdict.valid else 1


def _own_anchor() -> bytes | None:
    """The CA of this bot's own certificate, when this machine has one: a video it signed
    then reads as trusted here (anywhere else it stays "untrusted")."""
    try:
        settings = load_settings()
        credentials = existing_credentials(settings.c2pa_cert, settings.c2pa_key,
                                           settings.data_dir)
    except (SettingsError, ProvenanceError):  # then nothing is trusted; still checked
        return None
    return credentials.anchor_pem if credentials else None


async def _doctor_workers(settings: Settings, away_since: float | None) -> None:
    """The live workers; or why Redis cannot be reached, and since when the bot (another
    process, which notes it in the database) cannot reach it."""
    if settings.redis_url is None:
        print("workers: this process's GPU (I2V_REDIS_URL is not set)")
        return
    from bot.executors.base import ExecutorUnavailable
    from bot.executors.redis_link import redacted
    from bot.executors.remote import RemoteExecutor

    url = settings.redis_url.get_secret_value()
    if away_since is not None:
        print(f"workers: the bot cannot reach Redis at {redacted(url)} since "
              f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(away_since))}")
    remote = RemoteExecutor(url, heartbeat_s=settings.worker_heartbeat_s,
                            timeout_s=settings.job_timeout_s)
    try:
        await remote.start()
    except ExecutorUnavailable as exc:
        print(f"workers: {exc}")
        await remote.stop()
        return
    try:
        workers = remote.workers()
        print(f"workers: {len(workers)} live through {redacted(url)}")
        for w in workers:
            free = f", {w.free_memory_gib} GiB free" if w.free_memory_gib is not None else ""
            print(f"  {w.name}: {w.gpu}{free}, {'busy' if w.busy else 'idle'}, "
                  f"{w.jobs_done} done, {w.jobs_failed} failed, models {', '.join(w.models)}")
    finally:
        await remote.stop()


class Parser(argparse.ArgumentParser):
    """argparse, with a word on the mistake people make most: flags outside the quotes."""

    animating = False  # set by `main` when the command is `animate` or `extend`

    def error(self, message: str) -> NoReturn:
        if self.animating and "unrecognized arguments: --" in message:
            message = ("flags belong inside the caption's quotes, e.g. "
                       'i2vbot animate photo.jpg "waves rolling in --seed 3"')
        self.exit(2, f"i2vbot: {message}\n")


def parser() -> Parser:
    p = Parser(prog="i2vbot", description="Animate photos with I2VGen-XL "
               "from Telegram, Discord or the terminal.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run every chat platform whose token is set, and the "
                   "web page (by default when there is none)")
    a = sub.add_parser("animate", help="make one video from a photo and a caption")
    a.add_argument("photo", type=Path)
    a.add_argument("caption", help='prompt and flags in one quoted argument, e.g. '
                   '"a cat turning --seed 7"')
    a.add_argument("-o", "--output", type=Path, help="also copy the MP4 here")
    e = sub.add_parser("extend", help="continue one of your videos from its last frame")
    e.add_argument("job", help="the job id, printed with the video")
    e.add_argument("caption", nargs="?", help="a new prompt and flags (default: the same)")
    e.add_argument("-o", "--output", type=Path, help="also copy the MP4 here")
    v = sub.add_parser("verify", help="check a video's Content Credentials: who made it, "
                       "with which model, and whether it changed since")
    v.add_argument("file", type=Path)
    sub.add_parser("presets", help="list the quality presets and their cost")
    sub.add_parser("doctor", help="check the GPU, ffmpeg, model, database and tokens")
    sub.add_parser("sync-commands", help="register the Discord slash commands now")
    sub.add_parser("worker", help="serve the bot's jobs on this machine's GPU (I2V_REDIS_URL)")
    add_bench_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command_line = parser()
    command_line.animating = bool(argv) and argv[0] in ("animate", "extend")
    args = command_line.parse_args(argv)
    if args.command == "bench":
        return bench(args, argv)
    if args.command == "presets":
        print(presets_reply("en", tuple(cards())))
        return 0
    if args.command == "verify":  # needs no settings: anyone may check a file anywhere
        return verify_file(args.file)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        log_file = setup_logging(settings.data_dir, settings.log_level, settings.secrets(),
                                 console=args.command in ("serve", "worker"))
    except OSError as exc:
        print(f"Cannot write to the data folder {settings.data_dir}: {exc.strerror}; check "
              "I2V_DATA_DIR.", file=sys.stderr)
        return 1
    quiet_libraries()
    try:
        if args.command == "animate":
            return leave(asyncio.run(animate(settings, args.photo, args.caption, args.output)))
        if args.command == "extend":
            return leave(asyncio.run(extend(settings, args.job, args.caption, args.output)))
        if args.command == "serve":
            return leave(asyncio.run(serve(settings)))
        if args.command == "doctor":
            return asyncio.run(doctor(settings))
        if args.command == "worker":
            from adapters.worker_cli import run_worker
            return asyncio.run(run_worker(settings))
        if args.command == "sync-commands":
            from adapters.discord_bot import DiscordConfig, sync_commands
            if settings.discord_token is None:
                print("DISCORD_BOT_TOKEN is not set.", file=sys.stderr)
                return 2
            return asyncio.run(sync_commands(DiscordConfig.from_settings(settings)))
    except KeyboardInterrupt:  # `animate` and `extend` have said what they cancelled
        if args.command not in ("animate", "extend"):
            print("Interrupted.", file=sys.stderr)
        return INTERRUPTED
    except ProvenanceError as exc:  # the operator's files: one line, nothing more to tell
        log.info("%s stopped: %s", args.command, exc)
        print(exc, file=sys.stderr)
        return 1
    except (ModelLoadError, StoreError) as exc:  # one line here, the story in the log file
        log.error("%s stopped: %s", args.command, exc, exc_info=exc, extra=FILE_ONLY)
        print(RedactSecrets(settings.secrets()).scrub(str(exc)), file=sys.stderr)
        return leave(1)
    except Exception as exc:  # a bug: one line here, the whole story in the log file
        log.critical("%s stopped", args.command, exc_info=exc, extra=FILE_ONLY)
        line = RedactSecrets(settings.secrets()).scrub(f"{type(exc).__name__}: {exc}")
        print(f"i2vbot {args.command} stopped: {line} (details in {log_file})",
              file=sys.stderr)
        return 1
    return 2


def leave(code: int) -> int:
    """The exit code; but after Ctrl-C or SIGTERM, end the process now: what had to be
    saved is saved, and the interpreter's own shutdown would take seconds to unload torch,
    or run beside a model load or a GPU step that nobody waits for any more."""
    if signalled():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
