"""The composition root: the one place that reads the settings and wires the parts.

    settings -> store, quotas, payments, outputs, events, classifier, executor -> moderation
             -> lifecycle -> core -> adapters (a platform that takes payments is connected
             to `payments`)

Starting is in two steps so that people can be answered while the model loads: `load`
reads the queue back (jobs are accepted and told their place from then on), `start` loads
the model and starts the GPU work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.admin import AdminCommands
from bot.events import EventBus
from bot.executors.base import Executor, ExecutorUnavailable
from bot.jobs.lifecycle import Lifecycle
from bot.moderation import Moderation, ModerationPolicy
from bot.outputs import Outputs
from bot.payments import Pack, Payments
from bot.provenance.marking import Marking, Unsigned
from bot.quotas import Quotas, to_hundredths
from bot.service import Core, Policy
from bot.settings import Settings
from bot.store import Store
from engine.config import EngineConfig
from engine.moderation.classifier import ClassifierConfig, PictureClassifier
from engine.spec.cards import DEFAULT_MODEL
from engine.spec.errors import InternalError
from engine.spec.work import PreviewPlan

if TYPE_CHECKING:
    from engine.translation.translator import Translator, TranslatorConfig
    from engine.worker import BatchRenderer

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 6 * 3600  # old outputs are deleted at start and then four times a day
STOP_WORK_S = 15.0  # a denoising step of the max preset on a slow GPU stays well under this
DRAIN_EVENTS_S = 8.0  # results and failures still reach the chats at shutdown


class ModelLoadError(Exception):
    """The GPU side could not start (the model would not load, Redis is unreachable): the
    message says which setting to check."""


def model_load_error(settings: Settings, exc: Exception) -> ModelLoadError:
    """The one line for a model that would not load (the first of I2V_MODELS, which a
    worker loads at start), naming the setting to check."""
    model = settings.models[0]
    reason = str(exc).rstrip(".") if isinstance(exc, InternalError) else \
        f"{type(exc).__name__}: {exc}"
    return ModelLoadError(
        f"Could not load the model {model} ({settings.weights(model)!r}): {reason}. Set "
        f"{settings.weights_setting(model)} (a Hub id, a local folder, or I2V_MODEL=tiny to "
        "try the bot); `i2vbot doctor` shows what is there.")


def engine_config(settings: Settings, model: str = DEFAULT_MODEL) -> EngineConfig:
    return EngineConfig(model=settings.weights(model), family=model,
                        device=settings.device, dtype=settings.dtype,
                        cpu_offload=settings.cpu_offload,
                        models_dir=settings.data_dir / "models",
                        decode_chunk_size=settings.decode_chunk_size,
                        compile_unet=settings.compile_unet,
                        channels_last=settings.channels_last, fuse_qkv=settings.fuse_qkv,
                        attention=settings.attention)


def classifier_config(settings: Settings) -> ClassifierConfig:
    return ClassifierConfig(model=settings.moderation_classifier,
                            device=settings.moderation_device,
                            models_dir=settings.data_dir / "models",
                            thresholds=settings.moderation_thresholds)


def local_executor(settings: Settings, classifier: PictureClassifier | None = None) -> Executor:
    """The embedded default: the engine in this process, imported when it starts. It checks
    videos with the classifier that checks the photos: one copy in memory."""
    from bot.executors.local import LocalExecutor

    return LocalExecutor(lambda: renderer(settings, classifier))


def renderer(settings: Settings, classifier: PictureClassifier | None = None) -> BatchRenderer:
    """One engine per enabled model (the default first, loaded at start), the prompt
    translator, and the moderation classifier for the videos whose spec asks for a check
    (loaded at start where this machine's settings check videos); torch is imported here, on
    the worker thread, never by the core."""
    from engine.spec.cards import card
    from engine.worker import BatchRenderer

    return BatchRenderer(*(card(name).make_engine(engine_config(settings, name))
                           for name in settings.models), translator=translator(settings),
                         classifier=classifier or PictureClassifier(classifier_config(settings)),
                         load_classifier=settings.moderation == "photos+videos")


def translator_config(settings: Settings) -> TranslatorConfig | None:
    """Where the prompt translator's models come from; None when I2V_TRANSLATE=off."""
    from engine.translation.translator import TranslatorConfig

    models = settings.translators()
    if models is None:
        return None
    return TranslatorConfig(chinese=models[0], others=models[1], device=settings.device,
                            models_dir=settings.data_dir / "models")


def translator(settings: Settings) -> Translator | None:
    from engine.translation.translator import Translator

    config = translator_config(settings)
    return Translator(config) if config is not None else None


def default_executor(settings: Settings, classifier: PictureClassifier | None = None
                     ) -> Executor:
    """Remote workers when Redis is configured, else the GPU of this process."""
    if settings.redis_url is None:
        return local_executor(settings, classifier)
    from bot.executors.remote import RemoteExecutor

    return RemoteExecutor(settings.redis_url.get_secret_value(),
                          heartbeat_s=settings.worker_heartbeat_s,
                          timeout_s=settings.job_timeout_s)


def policy(settings: Settings) -> Policy:
    return Policy(admins=frozenset(settings.admins), default_preset=settings.default_preset,
                  models=tuple(settings.models),
                  max_jobs_per_user=settings.max_jobs_per_user, max_queue=settings.max_queue,
                  allowlist_mode=settings.allowlist_mode,
                  blocked_words=tuple(settings.blocked_words),
                  forced_negative=settings.forced_negative.strip(), loop_mode=settings.loop_mode,
                  max_extensions=settings.max_extensions, focus_blur=settings.focus_blur,
                  submits_per_minute=settings.submits_per_minute,
                  stored_photo_bytes=settings.stored_photos_mib * 2**20)


def marking(settings: Settings) -> Marking:
    """How videos are marked as made by AI: signed Content Credentials unless
    I2V_PROVENANCE=off, the label either way. Raises ProvenanceError (one line naming the
    setting) for a certificate or key that cannot be used; may make the local pair."""
    if not settings.provenance:
        return Unsigned(label=settings.watermark)
    from bot.provenance.credentials import load_credentials
    from bot.provenance.signing import ContentCredentials

    credentials = load_credentials(settings.c2pa_cert, settings.c2pa_key, settings.data_dir)
    return ContentCredentials(credentials, label=settings.watermark,
                              with_prompt=settings.provenance_prompt,
                              weights={m: weights_name(settings.weights(m))
                                       for m in settings.models})


def weights_name(weights: str) -> str:
    """A Hub id as it is; a local folder by its name only (the manifest travels)."""
    path = Path(weights)
    return path.name if path.is_absolute() or path.exists() else weights


def moderation_policy(settings: Settings) -> ModerationPolicy:
    return ModerationPolicy(mode=settings.moderation, thresholds=settings.moderation_thresholds,
                            check_admins=settings.moderation_admins,
                            keep_photos=settings.moderation_keep,
                            daily_limit=settings.moderation_daily_limit,
                            admins=frozenset(settings.admins))


@dataclass
class App:
    settings: Settings
    store: Store
    outputs: Outputs
    events: EventBus
    executor: Executor
    lifecycle: Lifecycle
    core: Core
    admin: AdminCommands
    payments: Payments
    marking: Marking
    moderation: Moderation
    _loaded: bool = False
    _executor_started: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def build(cls, settings: Settings, executor: Executor | None = None) -> App:
        """Open the store and build the parts; nothing runs yet. The signing certificate is
        checked first: a broken one stops here, before anything is opened."""
        marks = await asyncio.to_thread(marking, settings)
        store = await Store.open(settings.db_path)
        quotas = Quotas(store, daily_credits=settings.daily_credits,
                        trusted_daily_credits=settings.trusted_daily_credits,
                        reset_hour_utc=settings.reset_hour_utc)
        payments = Payments(store, quotas, [Pack(to_hundredths(amount), stars)
                                            for amount, stars in settings.packs()])
        outputs = Outputs(settings.data_dir, settings.output_retention_days)
        classifier = PictureClassifier(classifier_config(settings))  # loaded at start
        executor = executor or default_executor(settings, classifier)
        events = EventBus()
        moderation = Moderation(moderation_policy(settings), store, outputs, classifier,
                                events.tell, quotas.period_start)
        lifecycle = Lifecycle(store, quotas, outputs, events, executor, moderation,
                              settings.max_batch, marking=marks,
                              previews=PreviewPlan(settings.preview_every,
                                                   settings.preview_gap_s))
        core = Core(store, lifecycle, quotas, outputs, policy(settings), payments, moderation)
        return cls(settings, store, outputs, events, executor, lifecycle, core,
                   AdminCommands(core, store, quotas, lifecycle, payments, moderation),
                   payments, marks, moderation)

    async def load(self) -> None:
        """Read the queue back and settle what a dead process left. Register the adapters'
        notifiers before this, so that recovered jobs reach them."""
        if not self._loaded:
            await self.lifecycle.load()
            self._loaded = True

    async def load_moderation(self) -> None:
        """Load the moderation classifier (off the event loop) where photos are checked; a
        ModelLoadError says what to set."""
        try:
            await self.moderation.start()
        except Exception as exc:
            reason = str(exc) if isinstance(exc, InternalError) else \
                f"{type(exc).__name__}: {exc}"
            raise ModelLoadError(reason) from exc

    @property
    def workers_elsewhere(self) -> bool:
        """The GPU work is on `i2vbot worker`s: starting it is connecting to their Redis (a
        moment), not loading a model (a minute or more)."""
        return self.settings.redis_url is not None

    async def start_executor(self) -> None:
        """Load the model (off the event loop), or connect to the workers; once."""
        if self._executor_started:
            return
        model = self.settings.models[0]  # the one a worker loads first
        log.info("loading the model %s (%s)", model, self.settings.weights(model))
        try:
            await self.executor.start()
        except ExecutorUnavailable as exc:
            raise ModelLoadError(str(exc)) from exc
        except Exception as exc:
            raise model_load_error(self.settings, exc) from exc
        self._executor_started = True
        log.info("engine ready: %s", self.executor.describe())

    async def start(self) -> None:
        """Load the classifier and the model (unless started already), then serve the queue
        and prune old files."""
        await self.load()
        await self.load_moderation()
        await self.start_executor()
        if self.settings.metrics_port is not None:
            from bot.metrics import Metrics

            Metrics(self.lifecycle).serve(self.settings.metrics_port)
        await self.lifecycle.run()
        self._tasks.append(asyncio.create_task(self._prune_every(PRUNE_EVERY_S),
                                               name="retention"))
        self.core.accept_jobs()  # `serve` held them while the model loaded

    async def _prune_every(self, seconds: float) -> None:
        while True:
            await asyncio.to_thread(self.outputs.prune)
            await asyncio.sleep(seconds)

    async def stop_work(self) -> None:
        """Stop the GPU work between two steps and show the events it produced, before the
        adapters go."""
        await self.lifecycle.stop(STOP_WORK_S)
        self.events.drop_live_updates()
        if not await self.events.drain(DRAIN_EVENTS_S):
            log.warning("some job events were not shown within %.0f s of shutdown",
                        DRAIN_EVENTS_S)

    async def close(self, stop_work_s: float = STOP_WORK_S) -> None:
        """Stop everything; `stop_work_s` 0: without waiting for this process's GPU thread
        (its jobs were abandoned: the process is ending)."""
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.lifecycle.stop(stop_work_s)
        await self.events.close(DRAIN_EVENTS_S)
        self.moderation.close()
        await self.store.close()
