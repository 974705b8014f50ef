"""How long the farm takes to recover: real `i2vbot worker` processes (the tiny model on this
machine's CPU) and the bot (in this process) on a redis-server of the benchmark's own,
started with `--save "" --appendonly no`, each scenario run several times in one run.

- Redis restarted empty: two jobs run on the two workers, a third waits; Redis is killed
  (kill -9) and started again empty a few seconds later; a photo comes during the outage
  and one after. Measured from Redis answering again: a job taken by a worker, and both
  workers at work again (every job moves: the two that ran are sent again, the others
  follow as workers free up).
- Redis stopped for 30 s and started again with its data: the same.
- A worker killed mid-job (kill -9): from the kill to its job back in line, and to the
  other worker taking it.

    python -m benchmarks.recovery [--runs 3] [--heartbeat 5] [--out benchmarks/SCALE_OUT.md]

The figures depend on I2V_WORKER_HEARTBEAT_S and on SAQ's sweep (every 5 s), not on the
GPU: a real GPU changes only how long a job runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.app import App
from benchmarks.overhead import machine
from bot.models import ChatRef, EventKind, Job, JobEvent, JobRequest, Person
from bot.settings import Settings
from engine.models.i2vgen_xl.tiny import ensure_tiny_pipeline
from tests.farm import Farm
from tests.images import make_photo
from tests.redis_server import RedisServer

SECTION = "## Recovery: Redis restarts and dead workers (real workers, tiny model)"
EMPTY_GAP_S = 7.0  # how long Redis stays down before it restarts empty
AWAY_S = 30.0  # how long Redis stays stopped before it comes back with its data


@dataclass
class Timeline:
    """Every job event with the time it reached the bot's chats."""

    events: list[tuple[float, JobEvent]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def notify(self, event: JobEvent) -> None:
        self.events.append((time.monotonic(), event))
        self.changed.set()

    def first(self, job: Job, kind: EventKind, after: float = 0.0) -> float | None:
        return next((t for t, e in self.events
                     if e.job.id == job.id and e.kind is kind and t >= after), None)

    async def until(self, test: Callable[[], bool], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while not test():
            assert time.monotonic() < deadline, "timed out"
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 0.5)
            except TimeoutError:
                pass


class Bench:
    def __init__(self, folder: Path, heartbeat: int, steps: int) -> None:
        self.folder = folder
        self.heartbeat = heartbeat
        self.long = f"--size 128x128 --frames 8 --steps {steps}"
        self.short = "--size 128x128 --frames 8 --steps 10"
        self.server = RedisServer(folder / "redis")
        self.farm: Farm | None = None
        self.runs = 0

    async def bot(self) -> tuple[App, Timeline]:
        assert self.farm is not None
        self.runs += 1
        settings = Settings(_env_file=None, I2V_DATA_DIR=self.folder / f"bot{self.runs}",
                            I2V_MODEL="tiny", I2V_REDIS_URL=self.server.url,
                            I2V_WORKER_HEARTBEAT_S=self.heartbeat, I2V_MAX_JOBS_PER_USER=10,
                            I2V_DAILY_CREDITS=1000)
        app = await App.build(settings)
        timeline = Timeline()
        app.events.register("cli", timeline)
        await app.start()
        self.farm.ensure(2)
        await _until(lambda: len(app.executor.workers()) == 2 and not any(
            w.busy for w in app.executor.workers()), 300)
        return app, timeline

    async def submit(self, app: App, user: str, caption: str) -> Job:
        return await app.core.submit(JobRequest(Person("cli", user), ChatRef("cli", user),
                                                make_photo(160, 128), caption))

    async def redis_outage(self, *, empty: bool) -> tuple[float, float]:
        """Seconds from Redis answering again to the first job taken by a worker, and to
        both workers at work again."""
        app, timeline = await self.bot()
        try:
            running = [await self.submit(app, u, f"waves {self.long}") for u in ("a", "b")]
            waiting = [await self.submit(app, "c", f"a kite {self.short}")]
            await timeline.until(lambda: all(timeline.first(j, EventKind.PROGRESS)
                                             for j in running))
            if empty:
                self.server.kill()
            else:
                self.server.stop_keeping_data()
            await _until(lambda: app.executor.unreachable_since() is not None, 60)
            waiting.append(await self.submit(app, "d", f"sent meanwhile {self.short}"))
            await asyncio.sleep(EMPTY_GAP_S if empty else AWAY_S)  # the outage itself
            self.server.start(empty=empty)
            back = time.monotonic()
            waiting.append(await self.submit(app, "e", f"sent after {self.short}"))
            jobs = running + waiting
            await timeline.until(lambda: all(timeline.first(j, EventKind.DONE) for j in jobs))
            # STARTED: a worker took the job (a record Redis kept may still show old steps).
            steps = sorted(t for j in jobs if (t := timeline.first(j, EventKind.STARTED, back)))
            for job in jobs:
                assert [e.kind for _, e in timeline.events if e.job.id == job.id].count(
                    EventKind.DONE) == 1
            return steps[0] - back, steps[1] - back
        finally:
            await app.close()

    async def dead_worker(self) -> tuple[float, float]:
        """Seconds from a worker's kill to its job back in line, and to the other worker
        taking it."""
        assert self.farm is not None
        app, timeline = await self.bot()
        try:
            job = await self.submit(app, "a", f"waves {self.long}")
            await timeline.until(lambda: timeline.first(job, EventKind.PROGRESS) is not None)
            await _until(lambda: any(w.running == job.id for w in app.executor.workers()), 60)
            busy = next(w for w in app.executor.workers() if w.running == job.id)
            self.farm.kill(int(busy.name.rsplit(" ", 1)[1]))
            killed = time.monotonic()
            await timeline.until(lambda: timeline.first(job, EventKind.DONE) is not None)
            queued = timeline.first(job, EventKind.QUEUED, killed)
            assert queued is not None
            moving = timeline.first(job, EventKind.STARTED, queued)
            assert moving is not None
            return queued - killed, moving - killed
        finally:
            await app.close()


async def _until(test: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s ({min(values):.1f}-{max(values):.1f})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--heartbeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60, help="denoising steps of a long job")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/SCALE_OUT.md"))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench = Bench(folder, args.heartbeat, args.steps)
        bench.server.start()
        with bench.server.client() as client:
            version = client.info()["redis_version"]
        model = ensure_tiny_pipeline(folder / "models")
        bench.farm = Farm(bench.server.url, model, folder / "farm", args.heartbeat)
        rows: dict[str, list[tuple[float, float]]] = {"empty": [], "away": [], "dead": []}
        try:
            for run in range(args.runs):
                rows["empty"].append(await bench.redis_outage(empty=True))
                rows["away"].append(await bench.redis_outage(empty=False))
                rows["dead"].append(await bench.dead_worker())
                print(f"run {run + 1}: " + "; ".join(
                    f"{k} {a:.1f} s / {b:.1f} s" for k, (a, b) in
                    ((k, v[-1]) for k, v in rows.items())), flush=True)
        finally:
            bench.farm.stop()
            bench.server.close()
    h = args.heartbeat
    lines = [
        SECTION,
        "",
        f"- Machine: {machine()}, shared with other work (load average {load_before:.1f} "
        f"before the run, {os.getloadavg()[0]:.1f} after); redis-server {version} on the "
        "same machine, two `i2vbot worker` processes on the tiny model (CPU, one thread "
        "each) and the bot in one process",
        "- Command: `python -m benchmarks.recovery " + " ".join(sys.argv[1:]) + "`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"I2V_WORKER_HEARTBEAT_S={h}; SAQ's sweep every 5 s; {args.runs} runs of each, "
        "median (min-max)",
        "",
        "| fault | measured from | to | median (min-max) | in heartbeats |",
        "|---|---|---|---:|---:|",
    ]
    names = {"empty": f"Redis killed, restarted empty {EMPTY_GAP_S:.0f} s later",
             "away": f"Redis stopped {AWAY_S:.0f} s, back with its data",
             "dead": "a worker killed mid-job"}
    for key, label in names.items():
        first = [a for a, _ in rows[key]]
        second = [b for _, b in rows[key]]
        if key == "dead":
            pairs = [("the kill", "its job back in line", first),
                     ("the kill", "its job taken by the other worker", second)]
        else:
            pairs = [("Redis answering again", "a job taken by a worker", first),
                     ("Redis answering again", "both workers at work again", second)]
        for start, end, values in pairs:
            lines.append(f"| {label} | {start} | {end} | {_cell(values)} | "
                         f"{statistics.median(values) / h:.1f} |")
    lines += ["", "Every job was made and delivered exactly once in every run; a job's "
              "retry is used only by the dead worker."]
    _write_section(args.out, lines)
    print(f"Report: {args.out}")


def _write_section(path: Path, lines: list[str]) -> None:
    """Replace this benchmark's section of the report (or add it), keeping the rest."""
    text = path.read_text() if path.exists() else ""
    head, _, rest = text.partition(SECTION)
    tail = rest.partition("\n## ")[2]
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
                    + (f"\n## {tail}" if tail else ""))


if __name__ == "__main__":
    asyncio.run(main())
