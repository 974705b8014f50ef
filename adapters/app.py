"""The composition root: the one place that reads the settings and wires the parts.

    settings -> store, quotas, outputs, events, executor -> lifecycle -> core -> adapters

Starting is in two steps so that people can be answered while the model loads: `load`
reads the queue back (jobs are accepted and told their place from then on), `start` loads
the model and starts the GPU work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.admin import AdminCommands
from bot.events import EventBus
from bot.executors.base import Executor, ExecutorUnavailable
from bot.jobs.lifecycle import Lifecycle
from bot.outputs import Outputs
from bot.quotas import Quotas
from bot.service import Core, Policy
from bot.settings import Settings
from bot.store import Store
from engine.config import EngineConfig
from engine.spec.cards import DEFAULT_MODEL
from engine.spec.errors import InternalError

if TYPE_CHECKING:
    from engine.worker import BatchRenderer

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 6 * 3600  # old outputs are deleted at start and then four times a day
STOP_WORK_S = 15.0  # a denoising step of the max preset on a slow GPU stays well under this
DRAIN_EVENTS_S = 8.0  # results and failures still reach the chats at shutdown


class ModelLoadError(Exception):
    """The GPU side could not start (the model would not load, Redis is unreachable): the
    message says which setting to check."""


def engine_config(settings: Settings, model: str = DEFAULT_MODEL) -> EngineConfig:
    return EngineConfig(model=settings.weights(model), family=model,
                        device=settings.device, dtype=settings.dtype,
                        cpu_offload=settings.cpu_offload,
                        models_dir=settings.data_dir / "models",
                        decode_chunk_size=settings.decode_chunk_size,
                        compile_unet=settings.compile_unet,
                        channels_last=settings.channels_last, fuse_qkv=settings.fuse_qkv,
                        attention=settings.attention)


def local_executor(settings: Settings) -> Executor:
    """The embedded default: the engine in this process, imported when it starts."""
    from bot.executors.local import LocalExecutor

    return LocalExecutor(lambda: renderer(settings))


def renderer(settings: Settings) -> BatchRenderer:
    """One engine per enabled model (the default first, loaded at start); torch is
    imported here, on the worker thread, never by the core."""
    from engine.spec.cards import card
    from engine.worker import BatchRenderer

    return BatchRenderer(*(card(name).make_engine(engine_config(settings, name))
                           for name in settings.models))


def default_executor(settings: Settings) -> Executor:
    """Remote workers when Redis is configured, else the GPU of this process."""
    if settings.redis_url is None:
        return local_executor(settings)
    from bot.executors.remote import RemoteExecutor

    return RemoteExecutor(settings.redis_url.get_secret_value(),
                          heartbeat_s=settings.worker_heartbeat_s,
                          timeout_s=settings.job_timeout_s)


def policy(settings: Settings) -> Policy:
    return Policy(admins=frozenset(settings.admins), default_preset=settings.default_preset,
                  models=tuple(settings.models),
                  max_jobs_per_user=settings.max_jobs_per_user, max_queue=settings.max_queue,
                  allowlist_mode=settings.allowlist_mode,
                  blocked_words=tuple(settings.blocked_words), loop_mode=settings.loop_mode,
                  max_extensions=settings.max_extensions,
                  submits_per_minute=settings.submits_per_minute,
                  stored_photo_bytes=settings.stored_photos_mib * 2**20)


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
    _loaded: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def build(cls, settings: Settings, executor: Executor | None = None) -> App:
        """Open the store and build the parts; nothing runs yet."""
        store = await Store.open(settings.db_path)
        quotas = Quotas(store, daily_credits=settings.daily_credits,
                        trusted_daily_credits=settings.trusted_daily_credits,
                        reset_hour_utc=settings.reset_hour_utc)
        outputs = Outputs(settings.data_dir, settings.output_retention_days)
        executor = executor or default_executor(settings)
        events = EventBus()
        lifecycle = Lifecycle(store, quotas, outputs, events, executor, settings.max_batch)
        core = Core(store, lifecycle, quotas, outputs, policy(settings))
        return cls(settings, store, outputs, events, executor, lifecycle, core,
                   AdminCommands(core, store, quotas, lifecycle))

    async def load(self) -> None:
        """Read the queue back and settle what a dead process left. Register the adapters'
        notifiers before this, so that recovered jobs reach them."""
        if not self._loaded:
            await self.lifecycle.load()
            self._loaded = True

    async def start(self) -> None:
        """Load the model (off the event loop), then serve the queue and prune old files."""
        await self.load()
        model = self.settings.models[0]  # the one a worker loads first
        weights = self.settings.weights(model)
        log.info("loading the model %s (%s)", model, weights)
        try:
            await self.executor.start()
        except ExecutorUnavailable as exc:
            raise ModelLoadError(str(exc)) from exc
        except Exception as exc:
            reason = str(exc).rstrip(".") if isinstance(exc, InternalError) else \
                f"{type(exc).__name__}: {exc}"
            raise ModelLoadError(
                f"Could not load the model {model} ({weights!r}): {reason}. Set "
                f"{self.settings.weights_setting(model)} (a Hub id, a local folder, or I2V_MODEL"
                "=tiny to try the bot); `i2vbot doctor` shows what is there.") from exc
        log.info("engine ready: %s", self.executor.describe())
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
        await self.store.close()
