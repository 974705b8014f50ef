"""The composition root: the one place that reads the settings and wires the parts.

    settings -> store, quotas, outputs, engine -> queue -> core -> platform adapters
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.admin import AdminCommands
from bot.events import EventBus
from bot.outputs import Outputs
from bot.ports import Renderer
from bot.queue import JobQueue
from bot.quotas import Quotas
from bot.service import Core, Policy
from bot.settings import Settings
from bot.store import Store
from engine import Engine, EngineConfig
from engine.errors import InternalError

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 6 * 3600  # old outputs are deleted at start and then four times a day


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(model=settings.model, device=settings.device, dtype=settings.dtype,
                        cpu_offload=settings.cpu_offload,
                        models_dir=settings.data_dir / "models",
                        decode_chunk_size=settings.decode_chunk_size,
                        compile_unet=settings.compile_unet,
                        channels_last=settings.channels_last, fuse_qkv=settings.fuse_qkv,
                        attention=settings.attention)


def policy(settings: Settings) -> Policy:
    return Policy(admins=frozenset(settings.admins), default_preset=settings.default_preset,
                  max_jobs_per_user=settings.max_jobs_per_user, max_queue=settings.max_queue,
                  allowlist_mode=settings.allowlist_mode,
                  blocked_words=tuple(settings.blocked_words))


@dataclass
class App:
    settings: Settings
    store: Store
    engine: Renderer
    events: EventBus
    queue: JobQueue
    core: Core
    admin: AdminCommands
    _pruner: asyncio.Task[None] | None = None

    @classmethod
    async def build(cls, settings: Settings, renderer: Renderer | None = None) -> App:
        """Open the store and build the parts; the engine loads in `start`."""
        store = await Store.open(settings.db_path)
        quotas = Quotas(store, daily_credits=settings.daily_credits,
                        trusted_daily_credits=settings.trusted_daily_credits,
                        reset_hour_utc=settings.reset_hour_utc)
        outputs = Outputs(settings.data_dir, settings.output_retention_days)
        engine = renderer or Engine(engine_config(settings))
        events = EventBus()
        queue = JobQueue(store, quotas, outputs, engine, events, settings.max_batch)
        core = Core(store, queue, quotas, outputs, policy(settings))
        return cls(settings, store, engine, events, queue, core, AdminCommands(core))

    async def start(self) -> None:
        """Load the model (once, off the event loop), prune old files, start the worker.
        Register the adapters' notifiers before this, so recovered jobs reach them."""
        load = getattr(self.engine, "load", None)
        if load is not None:
            log.info("loading the model %s", self.settings.model)
            try:
                await asyncio.to_thread(load)
            except Exception as exc:
                raise InternalError(
                    f"Could not load the model {self.settings.model!r}: {exc}. Check "
                    "I2V_MODEL, the network for the first download, and `i2vbot doctor`."
                ) from exc
        await self.queue.start()
        self._pruner = asyncio.create_task(self._prune_every(PRUNE_EVERY_S), name="retention")

    async def _prune_every(self, seconds: float) -> None:
        while True:
            await asyncio.to_thread(self.core.outputs.prune)
            await asyncio.sleep(seconds)

    async def stop_work(self, timeout: float = 30) -> None:
        """Stop the GPU worker and deliver the events it produced, before the adapters go."""
        await self.queue.stop()
        try:
            await asyncio.wait_for(self.events.drain(), timeout)
        except TimeoutError:
            log.warning("some job events were not delivered within %.0f s of shutdown",
                        timeout)

    async def close(self) -> None:
        if self._pruner is not None:
            self._pruner.cancel()
        await self.queue.stop()
        await self.events.close()
        await self.store.close()
