"""Many GPUs: the bot with `i2vbot worker` processes on a real Redis server, the tiny model.

A worker killed mid-job, a cancel of a job running on a worker, a bot restarted while its
workers run, and the fair order with two workers. Needs `redis-server` (skipped with a
reason otherwise; CI requires it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.app import App
from bot.models import ChatRef, EventKind, JobRequest, Person
from bot.provenance.verify import verify
from tests.bot.conftest import END, FAST, Recorder, make_settings
from tests.credentials import made_by_ai
from tests.farm import Farm
from tests.images import make_photo
from tests.redis_server import RedisServer

HEARTBEAT_S = 3

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workers(tmp_path_factory, tiny_model_dir) -> Iterator[Farm]:
    """Two workers for the whole module: each loads the model once, as in production. Their
    Redis is the module's own: on a shared one, another run's workers could take its jobs."""
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    farm = Farm(redis.url, tiny_model_dir, tmp_path_factory.mktemp("farm"), HEARTBEAT_S)
    yield farm
    farm.stop()
    redis.close()


@pytest.fixture
def farm(workers) -> Farm:
    workers.ensure(2)
    return workers


async def bot(farm: Farm, data: Path, recorder: Recorder, **values: object) -> App:
    settings = make_settings(data, I2V_REDIS_URL=farm.url, I2V_WORKER_HEARTBEAT_S=HEARTBEAT_S,
                             **values)
    app = await App.build(settings)
    app.events.register("cli", recorder)
    await app.start()
    return app


async def workers_live(app: App, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(app.executor.workers()) < count:
        assert time.monotonic() < deadline, "the workers never came up"
        await asyncio.sleep(0.2)


def request(user: str, caption: str) -> JobRequest:
    return JobRequest(Person("cli", user), ChatRef("cli", user), make_photo(160, 128), caption)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    yield Recorder()


async def test_jobs_run_on_workers_and_nothing_stays_in_redis(farm, tmp_path, recorder):
    app = await bot(farm, tmp_path / "data", recorder)
    try:
        await workers_live(app, 2)
        jobs = [await app.core.submit(request(f"u{i}", f"waves {FAST}")) for i in range(3)]
        videos = {}
        for job in jobs:
            done = await recorder.wait_for(job.id, END, timeout=120)
            videos[job.id] = done.result.path
            assert done.kind is EventKind.DONE, done.reason
            assert done.result.path.exists() and done.result.frames == 8
            assert made_by_ai(done.result.path)["parameters"]["job"] == job.id  # signed here
            await app.core.delivered(job.id)
        assert {w.gpu for w in app.executor.workers()} == {"cpu"}
        longer = await app.core.extend(Person("cli", "u0"), jobs[0].id, "waves --loop")
        joined = await recorder.wait_for(longer.id, END, timeout=120)  # the video travels too
        assert joined.kind is EventKind.DONE and joined.result.frames == (8 + 7) * 2 - 1
        assert verify(joined.result.path).parent == videos[jobs[0].id].name
        await app.core.delivered(longer.id)
        await asyncio.sleep(0.5)  # results are removed once fetched
        import redis.asyncio as aioredis

        client = aioredis.from_url(farm.url)
        assert await client.keys("i2v:*") == [b"i2v:queues"]  # the workers' queues' names
        await client.aclose()
    finally:
        await app.close()


async def test_a_worker_killed_mid_job_is_replaced_and_the_video_arrives_once(
        farm, tmp_path, recorder):
    app = await bot(farm, tmp_path / "data", recorder)
    try:
        await workers_live(app, 2)
        job = await app.core.submit(request("ann", f"a cat turning {FAST} --steps 100"))
        await recorder.wait_for(job.id, [EventKind.PROGRESS], timeout=120)
        busy = None  # the worker that announces it runs this job (every 2 s)
        deadline = time.monotonic() + 15
        while busy is None and time.monotonic() < deadline \
                and EventKind.DONE not in recorder.kinds(job.id):
            await asyncio.sleep(0.1)
            busy = next((w for w in app.executor.workers() if w.running == job.id), None)
        finished_first = EventKind.DONE in recorder.kinds(job.id)
        if busy is not None:
            farm.kill(int(busy.name.rsplit(" ", 1)[1]))
        done = await recorder.wait_for(job.id, END, timeout=180)
        assert done.kind is EventKind.DONE, done.reason
        stored = await app.store.get_job(job.id)
        if not finished_first and busy is not None:  # the kill came mid-job
            assert stored.attempts == 2 and stored.note.key == "worker_lost"
        assert recorder.kinds(job.id).count(EventKind.DONE) == 1
        assert await app.store.job_ledger_sum(job.id) == -job.cost  # charged once
    finally:
        await app.close()


async def test_cancelling_a_job_on_a_worker_stops_it_and_refunds_it(farm, tmp_path, recorder):
    app = await bot(farm, tmp_path / "data", recorder)
    try:
        await workers_live(app, 1)
        job = await app.core.submit(request("ann", f"a dog running {FAST} --steps 100"))
        await recorder.wait_for(job.id, [EventKind.PROGRESS], timeout=120)
        await app.core.cancel(Person("cli", "ann"), job.id)
        end = await recorder.wait_for(job.id, END, timeout=60)
        assert end.kind is EventKind.CANCELLED
        steps = [e.step for e in recorder.events if e.job.id == job.id
                 and e.kind is EventKind.PROGRESS]
        assert max(steps) < 100
        assert await app.store.job_ledger_sum(job.id) == 0
        nxt = await app.core.submit(request("bob", f"a kite {FAST}"))  # the worker is free
        assert (await recorder.wait_for(nxt.id, END, timeout=120)).kind is EventKind.DONE
    finally:
        await app.close()


async def test_a_bot_restarted_while_its_workers_run_gets_the_video_once(farm, tmp_path):
    first = Recorder()
    app = await bot(farm, tmp_path / "data", first)
    await workers_live(app, 1)
    job = await app.core.submit(request("ann", f"a boat sailing {FAST} --steps 60"))
    await first.wait_for(job.id, [EventKind.STARTED], timeout=120)
    await app.close()  # the bot goes; the worker goes on
    assert (await _status(tmp_path, job.id)) == "running"

    second = Recorder()
    app = await bot(farm, tmp_path / "data", second)
    try:
        done = await second.wait_for(job.id, END, timeout=180)
        assert done.kind is EventKind.DONE and done.result.path.exists()
        assert done.job.attempts == 1  # reattached, not run again
        assert EventKind.DONE not in first.kinds(job.id)
    finally:
        await app.close()


async def test_two_workers_serve_people_in_turn(farm, tmp_path, recorder):
    app = await bot(farm, tmp_path / "data", recorder)
    try:
        await workers_live(app, 2)
        await app.lifecycle.set_paused(True)
        burst = [await app.core.submit(request("ann", f"waves {FAST} --steps 20"))
                 for _ in range(6)]
        await app.lifecycle.set_paused(False)
        await recorder.wait_for(burst[1].id, [EventKind.STARTED], timeout=120)
        started_before = len(recorder.started_order())  # on a busy machine, perhaps more
        single = await app.core.submit(request("bob", f"a bird {FAST} --steps 20"))
        for job in [*burst, single]:
            assert (await recorder.wait_for(job.id, END, timeout=240)).kind is EventKind.DONE
        order = recorder.started_order()
        # Bob's job takes the first worker that frees up: after Ann's jobs that had started
        # when he came (and at most one claim already on its way), never her whole burst.
        assert order.index(single.id) <= started_before + 1, order
        assert started_before + 1 < len(burst), "the test needs Ann's jobs still waiting"
    finally:
        await app.close()


async def _status(tmp_path: Path, job_id: str) -> str:
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "i2vbot.sqlite3") as db:
        return db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]




async def test_doctor_and_the_admins_stats_list_the_workers(farm, tmp_path, recorder,
                                                            monkeypatch, capsys):
    from adapters.cli import main

    app = await bot(farm, tmp_path / "data", recorder, I2V_ADMINS="cli:boss")
    try:
        await workers_live(app, 2)
        stats = await app.admin.run(Person("cli", "boss"), "stats", [])
        assert stats.count(" (cpu, ") == 2, stats  # busy or idle: two live workers
        assert stats.count("failed, models i2vgen-xl)") == 2, stats
    finally:
        await app.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("I2V_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("I2V_REDIS_URL", farm.url)
    assert await asyncio.to_thread(main, ["doctor"]) == 0  # its own event loop
    out = capsys.readouterr().out
    assert f"workers: 2 live through {farm.url}" in out
    assert out.count(": cpu, ") == 2
    assert out.count("models i2vgen-xl") == 2 and "model i2vgen-xl: " in out


async def test_a_model_waits_for_a_worker_that_offers_it_and_runs_there(farm, tmp_path,
                                                                      recorder, tiny_wan_dir,
                                                                      tiny_turbo_dir):
    """Last in the module: it adds a worker of its own (Wan and FastWan as well)."""
    app = await bot(farm, tmp_path / "data", recorder, I2V_MODELS="i2vgen-xl,wan,turbo",
                    I2V_ADMINS="cli:boss")
    try:
        await workers_live(app, 2)
        assert {w.models for w in app.executor.workers()} == {("i2vgen-xl",)}
        wan = await app.core.submit(request("u1", "waves --model wan --size 160x128 "
                                                  "--frames 17 --steps 10"))
        i2v = await app.core.submit(request("u2", f"waves {FAST}"))
        assert (await recorder.wait_for(i2v.id, END, timeout=120)).kind is EventKind.DONE
        assert EventKind.STARTED not in recorder.kinds(wan.id)  # still waiting, in line
        assert (await app.core.queue_view(Person("cli", "u1"))).mine[0][1] == 1
        farm.start(1, I2V_MODELS="i2vgen-xl,wan,turbo", I2V_WAN_MODEL=str(tiny_wan_dir),
                   I2V_TURBO_MODEL=str(tiny_turbo_dir))
        await workers_live(app, 3)
        # Only the new worker could make it: the others would have failed it ("this worker
        # does not run wan").
        done = await recorder.wait_for(wan.id, END, timeout=120)
        assert done.kind is EventKind.DONE and done.result.frames == 17
        # The new worker says it offers FastWan, and runs it: three steps, no guidance.
        stats = await app.admin.run(Person("cli", "boss"), "stats", [])
        assert stats.count("models i2vgen-xl, wan, turbo)") == 1, stats
        turbo = await app.core.submit(request("u1", "waves --model turbo --size 160x128 "
                                                    "--frames 17"))
        done = await recorder.wait_for(turbo.id, END, timeout=120)
        assert done.kind is EventKind.DONE and done.result.frames == 17
        assert (await app.store.get_job(turbo.id)).params.steps == 3
    finally:
        await app.close()


async def test_a_workers_video_is_checked_as_the_bot_asks_and_a_refusal_comes_back(
        pan, farm, tmp_path, tiny_classifier):
    """Moderation across Redis: the bot puts the thresholds in the spec, the worker (here
    in this process, with the pan test model) checks the finished clip and sends back the
    scores of a refusal; the bot records it and refunds. An exempt admin's is not checked."""
    from bot.executors.saq_worker import worker
    from bot.executors.scratch import Scratch
    from engine.config import EngineConfig
    from engine.worker import BatchRenderer
    from tests.images import red_left
    from tests.models.pan.engine import PanEngine

    url = farm.url  # the farm's own workers offer only i2vgen-xl: the pan jobs are this one's
    engine = PanEngine(EngineConfig(model="tiny", family="pan", device="cpu"))
    scratch = Scratch(tmp_path / "scratch")
    scratch.open()
    farm_worker = worker(url, lambda: BatchRenderer(engine, classifier=tiny_classifier),
                         ("pan",), heartbeat_s=HEARTBEAT_S, scratch=scratch)
    serving = asyncio.create_task(farm_worker.start())
    recorder = Recorder()
    settings = make_settings(tmp_path / "data", I2V_REDIS_URL=url, I2V_MODELS="pan",
                             I2V_WORKER_HEARTBEAT_S=HEARTBEAT_S, I2V_ADMINS="cli:boss",
                             I2V_MODERATION_ADMINS=False)
    app = await App.build(settings)
    app.events.register("cli", recorder)
    await app.start()
    try:
        await workers_live(app, 1)
        pans_red = red_left(320, 192, 0.7)  # passes as a photo; the pan's frames do not
        job = await app.core.submit(JobRequest(Person("cli", "ann"), ChatRef("cli", "ann"),
                                               pans_red, "a boat drifting"))
        end = await recorder.wait_for(job.id, END, timeout=120)
        assert end.kind is EventKind.FAILED and end.reason.key == "moderation_refused_video"
        assert await app.store.job_ledger_sum(job.id) == 0
        [row] = await app.store.refusals()
        assert row.kind == "video" and row.job_id == job.id and row.scores["nsfw"] > 0.5
        boss = await app.core.submit(JobRequest(Person("cli", "boss"), ChatRef("cli", "boss"),
                                                pans_red, "a boat drifting"))
        assert (await recorder.wait_for(boss.id, END, timeout=120)).kind is EventKind.DONE
    finally:
        await app.close()
        await farm_worker.stop()
        serving.cancel()
        scratch.close()
