"""The core's own overhead, without a GPU: how long acknowledging a photo takes, how long the
GPU waits for its next job, and how long a start takes, with 100 to 10,000 jobs queued.

    python -m benchmarks.overhead [--sizes 100,1000,10000] [--out benchmarks/OVERHEAD.md]

Each size gets a fresh SQLite file filled through the real `Core.submit` by people with 5
jobs each (the queue paused). Then, side by side in one run:
- start: a new process's `App.load()` reading the queue back (the fair order rebuilt);
- submit: 200 more photos from new people, each timed from the call to its return (the job
  committed, its place in line computed);
- claim: 100 claims of the next job by the lifecycle, timed up to the hand-over to the
  executor (a stand-in that takes the job and never finishes it).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.app import App
from bot.models import ChatRef, JobRequest, Person
from bot.settings import Settings
from engine.spec.work import RenderSpec, WorkEvent, WorkKind
from tests.images import make_photo

JOBS_PER_PERSON = 5
PROBE_SUBMITS = 200
PROBE_CLAIMS = 100


class Sink:
    """An executor that takes every batch and runs none: claims are timed alone. At the end
    its jobs are reported stopped, as a real executor's would be at shutdown."""

    slots = 1 << 30
    keeps_running = False

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.events: asyncio.Queue[WorkEvent | None] = asyncio.Queue()

    def free_slots(self) -> int:
        return self.slots

    def can_run(self, model: str) -> bool:
        return True

    def warm_model(self) -> str | None:
        return None

    def unreachable_since(self) -> float | None:
        return None

    def describe(self) -> str:
        return "no GPU (a sink)"

    async def start(self) -> None:
        pass

    async def submit(self, specs: Sequence[RenderSpec]) -> None:
        self.taken += [spec.job_id for spec in specs]

    async def cancel(self, job_id: str) -> None:
        pass

    async def next_event(self) -> WorkEvent | None:
        return await self.events.get()

    async def reattach(self, specs: Sequence[RenderSpec]) -> list[str]:
        return []

    def workers(self) -> list:
        return []

    async def stop(self) -> None:
        for job_id in self.taken:
            self.events.put_nowait(WorkEvent(WorkKind.STOPPED, job_id))


@dataclass
class Row:
    queued: int
    fill_s: float
    start_s: float
    submit_ms: list[float]
    claim_ms: list[float]


def settings_for(data: Path) -> Settings:
    return Settings(_env_file=None, I2V_DATA_DIR=data, I2V_MODEL="tiny", I2V_MAX_QUEUE=10**6,
                    I2V_MODERATION="off",  # its cost is benchmarks/MODERATION.md's
                    I2V_MAX_JOBS_PER_USER=JOBS_PER_PERSON, I2V_DAILY_CREDITS=10**4)


def request(person: str, photo: bytes) -> JobRequest:
    return JobRequest(person=Person("cli", person, name=person), chat=ChatRef("cli", person),
                      image=photo, caption="waves rolling in --preset preview")


async def measure(queued: int, photo: bytes) -> Row:
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(Path(folder))
        app = await App.build(settings, executor=Sink())
        await app.load()
        await app.lifecycle.set_paused(True)
        began = time.perf_counter()
        for i in range(queued):
            await app.core.submit(request(f"p{i // JOBS_PER_PERSON}", photo))
        fill = time.perf_counter() - began
        await app.close()

        app = await App.build(settings, executor=Sink())
        began = time.perf_counter()
        await app.start()  # still paused: only the timed claims below take jobs
        start = time.perf_counter() - began
        submits = []
        for i in range(PROBE_SUBMITS):
            began = time.perf_counter()
            await app.core.submit(request(f"new{i}", photo))
            submits.append((time.perf_counter() - began) * 1000)
        claims = []
        for _ in range(PROBE_CLAIMS):
            began = time.perf_counter()
            await app.lifecycle._claim()  # what the dispatch loop does when a slot is free
            claims.append((time.perf_counter() - began) * 1000)
        await app.close()
        return Row(queued, fill, start, submits, claims)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, " \
           f"{platform.system()} {platform.release()}"


def report(rows: list[Row], command: str) -> str:
    lines = [
        "# Core overhead (no GPU)",
        "",
        f"- Machine: {machine()}",
        f"- Command: `{command}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Each size: queued by people with {JOBS_PER_PERSON} jobs each through "
        f"`Core.submit`; then {PROBE_SUBMITS} submits by new people and {PROBE_CLAIMS} "
        "claims, timed one by one. A real SQLite file (WAL); the GPU is a sink.",
        "- Goal: submit p99 < 20 ms and claim < 5 ms at 10,000 queued; start < 5 s.",
        "",
        "| queued | start (load the queue) | submit p50 | submit p99 | claim p50 | claim p99 |"
        " fill rate |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.queued:,} | {r.start_s:.2f} s | {statistics.median(r.submit_ms):.1f} ms | "
            f"{percentile(r.submit_ms, 0.99):.1f} ms | {statistics.median(r.claim_ms):.1f} ms |"
            f" {percentile(r.claim_ms, 0.99):.1f} ms | {r.queued / r.fill_s:.0f} jobs/s |")
    return "\n".join(lines) + "\n"


async def main(sizes: list[int], out: Path, command: str) -> None:
    photo = make_photo(640, 480)
    rows = []
    for size in sizes:
        row = await measure(size, photo)
        print(f"{size} queued: start {row.start_s:.2f} s, submit p99 "
              f"{percentile(row.submit_ms, 0.99):.1f} ms, claim p99 "
              f"{percentile(row.claim_ms, 0.99):.1f} ms", flush=True)
        rows.append(row)
    out.write_text(report(rows, command))
    print(f"Report: {out}")


if __name__ == "__main__":
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/OVERHEAD.md"))
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.out,
                     "python -m benchmarks.overhead " + " ".join(sys.argv[1:])))
