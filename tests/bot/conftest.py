"""A whole core (a store on a real SQLite file, the lifecycle, quotas) per test, on the
scripted fake executor; `engine_app` runs the tiny diffusers model instead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable

import pytest

from adapters.app import App
from bot.executors.local import LocalExecutor
from bot.models import ChatRef, EventKind, JobEvent, JobRequest, Person
from bot.settings import Settings
from engine.worker import BatchRenderer
from tests.fake_executor import FakeExecutor
from tests.images import make_photo

FAST = "--size 128x128 --frames 8 --steps 10"
END = (EventKind.DONE, EventKind.FAILED, EventKind.CANCELLED)


class Recorder:
    """A notifier that keeps every event, for tests to wait on."""

    def __init__(self) -> None:
        self.events: list[JobEvent] = []
        self._changed = asyncio.Condition()

    async def notify(self, event: JobEvent) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def kinds(self, job_id: str) -> list[EventKind]:
        return [e.kind for e in self.events if e.job.id == job_id]

    async def wait_for(self, job_id: str, kinds: Iterable[EventKind],
                       timeout: float = 60) -> JobEvent:
        wanted = set(kinds)

        def found() -> JobEvent | None:
            return next((e for e in self.events if e.job.id == job_id and e.kind in wanted),
                        None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(found), timeout)
        event = found()
        assert event is not None
        return event

    async def wait_for_nth(self, job_id: str, kind: EventKind, n: int,
                           timeout: float = 60) -> JobEvent:
        """The n-th event of `kind` of a job (1 = the first)."""
        def found() -> list[JobEvent]:
            return [e for e in self.events if e.job.id == job_id and e.kind is kind]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(found()) >= n), timeout)
        return found()[n - 1]

    def started_order(self) -> list[str]:
        return [e.job.id for e in self.events if e.kind is EventKind.STARTED]


async def serving(caplog, timeout: float = 240) -> None:
    """Wait until an in-process `serve` takes jobs (its model is ready): it logs so (set
    caplog to INFO before `serve` starts)."""
    deadline = time.monotonic() + timeout
    while not any(r.getMessage().startswith("serving ") for r in caplog.records):
        assert time.monotonic() < deadline, "serve never got ready"
        await asyncio.sleep(0.05)


def make_settings(data_dir, **values) -> Settings:
    # Tests submit in bursts: the per-person rate limit has tests of its own.
    base = {"I2V_DATA_DIR": data_dir, "I2V_MODEL": "tiny", "I2V_MAX_JOBS_PER_USER": 10,
            "I2V_DAILY_CREDITS": 100, "I2V_SUBMITS_PER_MINUTE": 1000,
            "I2V_WEB_NEW_SESSIONS_PER_DAY": 1000, "I2V_WEB_SUBMITS_PER_MINUTE": 1000}
    base.update(values)
    return Settings(_env_file=None, **base)


def tiny_executor(engine, classifier, translator=None) -> LocalExecutor:
    """The real local executor around the session's tiny engine, moderation classifier (and
    translator)."""
    return LocalExecutor(lambda: BatchRenderer(engine, classifier=classifier,
                                               translator=translator))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def gpu() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
async def app(settings, gpu, recorder) -> AsyncIterator[App]:
    app = await App.build(settings, executor=gpu)
    app.events.register("cli", recorder)
    await app.start()
    yield app
    await app.close()


@pytest.fixture
async def engine_app(settings, tiny_engine, tiny_classifier, recorder) -> AsyncIterator[App]:
    app = await App.build(settings, executor=tiny_executor(tiny_engine, tiny_classifier))
    app.events.register("cli", recorder)
    await app.start()
    yield app
    await app.close()


def request(user: str = "u1", caption: str = f"a cat turning its head {FAST}",
            image: bytes | None = None, **fields) -> JobRequest:
    return JobRequest(person=Person("cli", user, name=user), chat=ChatRef("cli", user),
                      image=image if image is not None else make_photo(160, 128),
                      caption=caption, **fields)
