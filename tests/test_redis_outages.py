"""Workers that survive Redis: the bot and real `i2vbot worker` processes (the tiny model)
meet in a redis-server this module starts, kills and restarts itself.

Redis restarted empty while jobs run and wait, then a new photo; Redis stopped for 30 s and
started again with its data; a worker killed mid-job, then its files; `serve` and a worker
that cannot start, counting their terminal lines. Each waits for events (a job's states, a
worker's words, what Redis holds), never for a number of seconds."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.app import App
from bot.models import ChatRef, EventKind, Job, JobRequest, JobStatus, Person
from bot.views import status_line
from tests.bot.conftest import END, Recorder, make_settings
from tests.farm import ROOT, Farm
from tests.images import make_photo
from tests.redis_server import RedisServer, free_port

pytestmark = pytest.mark.slow

HEARTBEAT_S = 3
OUTAGE_S = 30  # "away 30-60 s": ten heartbeats, every record stale when Redis is back
LONG = "--size 128x128 --frames 8 --steps 100"  # still running when Redis goes
SHORT = "--size 128x128 --frames 8 --steps 10"
UNREACHABLE = "The GPU workers cannot be reached right now"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.close()


@pytest.fixture(scope="module")
def workers(server, tmp_path_factory, tiny_model_dir) -> Iterator[Farm]:
    """Two workers for the module (each loads the model once); they outlive every outage."""
    farm = Farm(server.url, tiny_model_dir, tmp_path_factory.mktemp("farm"), HEARTBEAT_S)
    yield farm
    farm.stop()


@pytest.fixture
def farm(server, workers) -> Farm:
    if server.proc is None or server.proc.poll() is not None:
        server.start()  # a test that failed half-way left it stopped
    workers.ensure(2)
    return workers


@pytest.fixture
async def bot(farm, tmp_path) -> AsyncIterator[tuple[App, Recorder]]:
    recorder = Recorder()
    app = await App.build(make_settings(tmp_path / "data", I2V_REDIS_URL=farm.url,
                                        I2V_WORKER_HEARTBEAT_S=HEARTBEAT_S,
                                        I2V_ADMINS="cli:boss"))
    app.events.register("cli", recorder)
    await app.start()
    await until(lambda: len(app.executor.workers()) == 2, "the two workers never came up", 120)
    yield app, recorder
    await app.close()


async def until(condition, failure: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.05)


def request(user: str, caption: str) -> JobRequest:
    return JobRequest(Person("cli", user), ChatRef("cli", user), make_photo(160, 128), caption)


async def delivered_once(app: App, recorder: Recorder, jobs: list[Job]) -> None:
    """Every job made exactly once, charged once, delivered."""
    for job in jobs:
        done = await recorder.wait_for(job.id, END, timeout=240)
        assert done.kind is EventKind.DONE, (job.id, done.reason)
        await app.core.delivered(job.id)
    await asyncio.sleep(0)
    for job in jobs:
        assert recorder.kinds(job.id).count(EventKind.DONE) == 1
        assert await app.store.job_ledger_sum(job.id) == -job.cost
        assert (await app.store.get_job(job.id)).status is JobStatus.DELIVERED


async def nothing_left_behind(app: App, farm: Farm, server: RedisServer) -> None:
    """No person's photo or video in Redis or in a worker's folder once all is delivered;
    the registry and the worker entries are back."""
    def left() -> list[bytes]:
        with server.client() as client:
            return sorted(k for k in client.keys("i2v:*") if k != b"i2v:queues")
    await until(lambda: not left(), f"left in Redis: {left()}")
    with server.client() as client:
        assert client.smembers("i2v:queues") == {b"i2v:i2vgen-xl"}
    files = [p for p in farm.scratch.rglob("*") if p.is_file() and p.name != ".lock"]
    assert files == []
    stats = await app.admin.run(Person("cli", "boss"), "stats", [])
    assert stats.count(" (cpu, ") == 2, stats


async def running_on_workers(recorder: Recorder, jobs: list[Job]) -> None:
    for job in jobs:
        await recorder.wait_for(job.id, [EventKind.PROGRESS], timeout=120)


async def outage_is_told(app: App, recorder: Recorder) -> Job:
    """While Redis is away: stats says since when, a new photo is taken and its owner told
    the workers cannot be reached."""
    await until(lambda: app.executor.unreachable_since() is not None,
                "the bot never noticed Redis was gone")
    stats = await app.admin.run(Person("cli", "boss"), "stats", [])
    assert "Workers: unreachable since " in stats, stats
    new = await app.core.submit(request("dan", f"a new photo {SHORT}"))
    queued = await recorder.wait_for(new.id, [EventKind.QUEUED])
    assert UNREACHABLE in status_line(queued)
    return new


async def test_redis_restarted_empty_while_jobs_run_and_wait_loses_no_job(bot, farm, server):
    app, recorder = bot
    running = [await app.core.submit(request(user, f"waves {LONG}")) for user in ("ann", "bob")]
    waiting = await app.core.submit(request("cid", f"a kite {SHORT}"))
    await running_on_workers(recorder, running)
    lost_before = farm.said().count(": lost (")

    server.kill()
    new = await outage_is_told(app, recorder)
    # Each worker stops its engine between two steps and removes the batch's files.
    await farm.until_said(": lost (Redis cannot be reached", lost_before + 2)
    server.start(empty=True)

    await delivered_once(app, recorder, [*running, waiting, new])
    for job in running:  # sent again: the outage does not count against their retry
        stored = await app.store.get_job(job.id)
        assert stored.attempts == 1 and stored.note is None
        assert recorder.kinds(job.id).count(EventKind.STARTED) == 2
    await nothing_left_behind(app, farm, server)
    assert "Traceback" not in farm.said() and "never retrieved" not in farm.said()


async def test_redis_away_30_s_and_back_with_its_data_loses_no_job(bot, farm, server,
                                                                  tmp_path):
    app, recorder = bot
    running, cancelled = [await app.core.submit(request(user, f"waves {LONG}"))
                          for user in ("ann", "bob")]
    await running_on_workers(recorder, [running, cancelled])
    lost_before = farm.said().count(": lost (")

    server.stop_keeping_data()
    went = time.monotonic()
    new = await outage_is_told(app, recorder)
    await farm.until_said(": lost (Redis cannot be reached", lost_before + 2)
    await app.core.cancel(Person("cli", "bob"), cancelled.id)  # heard when Redis is back
    doctor = await asyncio.to_thread(_doctor, app, tmp_path, server)
    assert "workers: the bot cannot reach Redis at " in doctor and " since " in doctor
    assert f"Redis at redis://127.0.0.1:{server.port}/0 refused the connection" in doctor
    await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - went)))  # the outage itself
    server.start(empty=False)
    with server.client() as client:  # its data are back: the jobs' records, stale now
        assert len(client.keys("saq:job:i2v:i2vgen-xl:*")) == 2

    end = await recorder.wait_for(cancelled.id, END, timeout=120)
    assert end.kind is EventKind.CANCELLED and await app.store.job_ledger_sum(cancelled.id) == 0
    await delivered_once(app, recorder, [running, new])
    stored = await app.store.get_job(running.id)
    assert stored.attempts == 1 and stored.note is None  # the outage lost it, not a worker
    await nothing_left_behind(app, farm, server)


def _doctor(app: App, tmp_path: Path, server: RedisServer) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("I2V_")}
    env.update(I2V_DATA_DIR=str(app.settings.data_dir), I2V_REDIS_URL=server.url,
               I2V_MODEL="tiny", I2V_MODERATION_MODEL="tiny", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "adapters.cli", "doctor"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_a_worker_killed_mid_job_leaves_no_file_behind(bot, farm, server):
    app, recorder = bot
    job = await app.core.submit(request("ann", f"a cat turning {LONG}"))
    await running_on_workers(recorder, [job])
    await until(lambda: any(w.running == job.id for w in app.executor.workers()),
                "no worker said it runs the job")
    busy = next(w for w in app.executor.workers() if w.running == job.id)
    pid = int(busy.name.rsplit(" ", 1)[1])
    folders = [p for p in farm.scratch.iterdir() if p.name.startswith(f"{pid}-")]
    assert len(folders) == 1 and list(folders[0].glob("batch-*/*.img"))  # the photo is there
    farm.kill(pid)

    await delivered_once(app, recorder, [job])  # on the other worker, once
    assert (await app.store.get_job(job.id)).note.key == "worker_lost"
    assert folders[0].exists()  # nobody has cleaned up after the dead worker yet
    farm.ensure(2)  # a worker starting on the same machine does
    await until(lambda: not folders[0].exists(), "the dead worker's files are still there", 120)
    await until(lambda: len(app.executor.workers()) == 2, "the new worker never came up", 120)
    await nothing_left_behind(app, farm, server)


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> Iterator[RedisServer]:
    """A Redis with a password."""
    redis = RedisServer(tmp_path_factory.mktemp("locked"), password="right-one")
    redis.start()
    yield redis
    redis.close()


@pytest.fixture(scope="module")
def silent() -> Iterator[int]:
    """A port that takes connections and never answers (a firewall that drops, a host
    that hangs)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.parametrize(("command", "case"), [
    *((command, case) for command in ("serve", "worker")
      for case in ("refused", "unreachable", "wrong password", "no password")),
    ("worker", "unknown model"),  # `serve` loads no model when its workers are remote
])
def test_a_start_that_fails_says_why_in_one_line(command, case, locked, silent, tmp_path,
                                                 tiny_model_dir):
    port = locked.port
    url, words = {
        "refused": (f"redis://127.0.0.1:{free_port()}/0", "refused the connection"),
        "unreachable": (f"redis://127.0.0.1:{silent}/0", "is unreachable: no answer within"),
        "wrong password": (f"redis://:wrong-one@127.0.0.1:{port}/0", "refused the password"),
        "no password": (f"redis://127.0.0.1:{port}/0", "asks for a password"),
        "unknown model": (locked.url, "Could not load the model i2vgen-xl"),
    }[case]
    env = {k: v for k, v in os.environ.items() if not k.startswith("I2V_")}
    env.update(I2V_DATA_DIR=str(tmp_path / "data"), I2V_REDIS_URL=url, I2V_DEVICE="cpu",
               I2V_MODEL=str(tmp_path / "no-such-model") if case == "unknown model"
               else str(tiny_model_dir),
               I2V_WEB="on", I2V_WEB_PORT=str(free_port()), I2V_MODERATION_MODEL="tiny",
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "adapters.cli", command], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, lines
    assert words in lines[0] and "right-one" not in lines[0] and "wrong-one" not in lines[0]
    logged = "".join(p.read_text() for p in (tmp_path / "data" / "logs").glob("*.log"))
    assert "Traceback" in logged  # the details are in the log file
    assert "right-one" not in logged and "wrong-one" not in logged
