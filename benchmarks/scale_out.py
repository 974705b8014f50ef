"""Scaling out: jobs per minute with 1, 2, 4 and 8 workers on a real Redis, and the time a
worker waits between two jobs (the dispatch overhead), side by side in one run.

    python -m benchmarks.scale_out [--redis redis://127.0.0.1:6379/14] [--gpu-seconds 1.0]

The GPU is SIMULATED: every job holds its worker for a fixed time (--gpu-seconds, in ten
"steps" that report progress like the engine), then hands back a small real MP4. Everything
else is real: the bot's scheduler, lifecycle and SQLite store, the remote executor, SAQ on
Redis, and the workers' job loop (in this process, each a real SAQ worker).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from adapters.app import App
from benchmarks.overhead import machine
from bot.executors.saq_worker import worker
from bot.executors.scratch import Scratch
from bot.models import ChatRef, EventKind, JobEvent, JobRequest, Person
from bot.settings import Settings
from engine.spec.work import RenderSpec, Video, WorkEvent, WorkKind
from engine.video import encode_mp4
from tests.fake_executor import solid_frames
from tests.images import make_photo

STEPS = 10


class SimulatedGpu:
    """Holds each batch for a fixed time, then copies a ready MP4 into place."""

    def __init__(self, seconds: float, template: Path) -> None:
        self.seconds = seconds
        self.template = template

    models = ("i2vgen-xl",)
    loaded_model = "i2vgen-xl"

    def load(self) -> None:
        pass

    def describe(self) -> str:
        return f"simulated GPU ({self.seconds} s a job)"

    def run(self, specs: Sequence[RenderSpec], emit: Callable[[WorkEvent], None],
            should_stop: Callable[[], bool]) -> None:
        for spec in specs:
            emit(WorkEvent(WorkKind.STARTED, spec.job_id))
        for step in range(1, STEPS + 1):
            time.sleep(self.seconds / STEPS)
            for spec in specs:
                emit(WorkEvent(WorkKind.PROGRESS, spec.job_id, step=step, total=STEPS))
        for spec in specs:
            shutil.copyfile(self.template, spec.output)
            shutil.copyfile(self.template.with_suffix(".jpg"), spec.output.with_suffix(".jpg"))
            emit(WorkEvent(WorkKind.DONE, spec.job_id, video=Video(
                path=spec.output, poster=spec.output.with_suffix(".jpg"), width=128,
                height=128, frames=8, fps=8, duration=1.0,
                size_bytes=spec.output.stat().st_size, params=spec.params)))


class Finish:
    def __init__(self, count: int) -> None:
        self.count, self.done = count, 0
        self.all_done = asyncio.Event()

    async def notify(self, event: JobEvent) -> None:
        if event.kind is EventKind.DONE:
            self.done += 1
            if self.done == self.count:
                self.all_done.set()


async def measure(url: str, workers: int, jobs: int, seconds: float, template: Path,
                  folder: Path) -> float:
    """Seconds from the first submit to the last video made."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    await client.flushdb()
    await client.aclose()
    scratches = [Scratch(folder / "worker") for _ in range(workers)]
    for scratch in scratches:
        scratch.open()
    farm = [worker(url, lambda: SimulatedGpu(seconds, template), SimulatedGpu.models,
                   heartbeat_s=30, scratch=scratch)
            for scratch in scratches]
    tasks = [asyncio.create_task(w.start()) for w in farm]
    settings = Settings(_env_file=None, I2V_DATA_DIR=folder, I2V_MODEL="tiny",
                        I2V_MODERATION="off",  # benchmarks/MODERATION.md
                        I2V_REDIS_URL=url, I2V_MAX_QUEUE=10**6, I2V_MAX_JOBS_PER_USER=10**3,
                        I2V_DAILY_CREDITS=10**5)
    app = await App.build(settings)
    finish = Finish(jobs)
    app.events.register("cli", finish)
    await app.start()
    while len(app.executor.workers()) < workers:
        await asyncio.sleep(0.1)
    photo = make_photo(160, 128)
    began = time.perf_counter()
    for i in range(jobs):
        await app.core.submit(JobRequest(Person("cli", f"p{i % 20}"), ChatRef("cli", "x"),
                                         photo, "waves --size 128x128 --frames 8"))
    await finish.all_done.wait()
    elapsed = time.perf_counter() - began
    await app.close()
    for w in farm:
        await w.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for scratch in scratches:
        scratch.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--gpu-seconds", type=float, default=1.0)
    parser.add_argument("--jobs-per-worker", type=int, default=10)
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/SCALE_OUT.md"))
    args = parser.parse_args()
    # Every simulated worker holds a thread for its "GPU" time, as a real one holds its own
    # process; the default pool (cores + 4 threads) would make 8 workers queue for 6.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=64))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.mp4"
        encode_mp4(solid_frames(8, 128, 128, 1), 8, template)
        for count in (int(w) for w in args.workers.split(",")):
            jobs = count * args.jobs_per_worker
            elapsed = await measure(args.redis, count, jobs, args.gpu_seconds, template,
                                    Path(folder) / f"w{count}")
            per_minute = jobs / elapsed * 60
            overhead = (count * elapsed - jobs * args.gpu_seconds) / jobs
            rows.append((count, jobs, elapsed, per_minute, overhead))
            print(f"{count} workers: {per_minute:.0f} jobs/min, {overhead * 1000:.0f} ms "
                  "between jobs", flush=True)
    base = rows[0][3]
    lines = [
        "# Scaling out: workers on Redis (simulated GPU)",
        "",
        f"- Machine: {machine()}; Redis {args.redis.split('@')[-1]} on the same machine",
        "- Command: `python -m benchmarks.scale_out " + " ".join(sys.argv[1:]) + "`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- **The GPU is simulated**: each job holds its worker {args.gpu_seconds} s. The bot, "
        "SAQ, Redis and the workers' job loop are real; the workers run in the bot's process.",
        "- Overhead: the time a worker waits per job, `(workers × elapsed − jobs × GPU "
        "time) / jobs`. Goals: 8 workers ≥ 7× one worker's throughput; < 50 ms per job.",
        "",
        "| workers | jobs | elapsed | jobs/min | vs 1 worker | overhead per job |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for count, jobs, elapsed, per_minute, overhead in rows:
        lines.append(f"| {count} | {jobs} | {elapsed:.1f} s | {per_minute:.0f} | "
                     f"{per_minute / base:.2f}× | {overhead * 1000:.0f} ms |")
    # Other benchmarks' sections of the report (benchmarks/recovery.py's) stay as they were.
    kept = args.out.read_text().partition("\n## ")[2] if args.out.exists() else ""
    args.out.write_text("\n".join(lines) + "\n" + (f"\n## {kept}" if kept else ""))
    print(f"Report: {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
