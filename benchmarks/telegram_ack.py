"""What a Telegram user waits for with a long queue, through the real python-telegram-bot
against the fake Bot API on 127.0.0.1 (no GPU): the "Queued: #k" answer to a photo, the
first job's start after a restart, and a shutdown in the middle of re-announcing places.

    python -m benchmarks.telegram_ack [--queued 1000] [--people 200] [--out benchmarks/TELEGRAM.md]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from adapters.app import App
from adapters.telegram_bot import TelegramAdapter, TelegramConfig
from benchmarks.overhead import machine, percentile
from bot.models import ChatRef, EventKind, JobEvent, JobRequest, Person
from bot.settings import Settings
from tests.adapters.telegram_bot.conftest import Person as TelegramPerson
from tests.adapters.telegram_bot.fake_bot_api import TOKEN, FakeBotApi
from tests.fake_executor import FakeExecutor
from tests.images import make_photo

PROBES = 100


class FirstStart:
    """Notes when the first job starts, whatever platform it belongs to."""

    def __init__(self, adapter: TelegramAdapter) -> None:
        self.adapter = adapter
        self.at: float | None = None

    async def notify(self, event: JobEvent) -> None:
        if event.kind is EventKind.STARTED and self.at is None:
            self.at = time.perf_counter()
        await self.adapter.notify(event)


async def run(queued: int, people: int) -> dict[str, float | list[float]]:
    api = FakeBotApi()
    await api.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, I2V_DATA_DIR=folder, I2V_MODEL="tiny",
                            I2V_MODERATION="off",  # benchmarks/MODERATION.md
                            I2V_MAX_QUEUE=10**6, I2V_MAX_JOBS_PER_USER=queued // people + 1,
                            I2V_DAILY_CREDITS=10**4, TELEGRAM_BOT_TOKEN=TOKEN,
                            TELEGRAM_API_BASE_URL=api.base_url,
                            TELEGRAM_API_FILE_URL=api.file_url)
        photo = make_photo(640, 480)
        app = await App.build(settings, executor=FakeExecutor())
        await app.load()
        await app.lifecycle.set_paused(True)
        for i in range(queued):
            user = str(10_000 + i % people)
            await app.core.submit(JobRequest(Person("telegram", user), ChatRef("telegram", user),
                                             photo, "waves rolling in --preset preview"))
        adapter = TelegramAdapter(TelegramConfig.from_settings(settings), app.core, app.admin)
        app.events.register("telegram", adapter)
        await adapter.start()
        acks = []
        for i in range(PROBES):
            person = TelegramPerson(api, 50_000 + i)
            began = time.perf_counter()
            await person.photo("waves rolling in --preset preview")
            await person.wait_text("Queued", 30)
            acks.append((time.perf_counter() - began) * 1000)
        await adapter.stop()
        await app.close()

        # A restart with the queue full: unpaused, the GPU (a fake: instant jobs) starts.
        app = await App.build(settings, executor=FakeExecutor())
        adapter = TelegramAdapter(TelegramConfig.from_settings(settings), app.core, app.admin)
        first = FirstStart(adapter)
        app.events.register("telegram", first)
        await app.lifecycle.set_paused(False)
        began = time.perf_counter()
        await app.load()
        await adapter.start()
        await app.start()
        while first.at is None:
            await asyncio.sleep(0.01)
        to_first_job = first.at - began
        await asyncio.sleep(2)  # re-announcing places and running jobs, as SIGTERM comes
        began = time.perf_counter()
        await app.stop_work()
        await adapter.stop()
        await app.close()
        stop = time.perf_counter() - began
    await api.close()
    return {"acks": acks, "to_first_job": to_first_job, "stop": stop}


def report(queued: int, people: int, result: dict, command: str) -> str:
    acks: list[float] = result["acks"]  # type: ignore[assignment]
    return "\n".join([
        "# Telegram: answers with a long queue (no GPU)",
        "",
        f"- Machine: {machine()}",
        f"- Command: `{command}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- {queued:,} jobs queued by {people} people; the real python-telegram-bot polling a "
        "fake Bot API on 127.0.0.1; the GPU is the test suite's instant fake executor.",
        "",
        "| what | measured | goal |",
        "|---|---:|---:|",
        f"| photo → \"Queued: #k\" edit, p50 ({PROBES} photos) | {statistics.median(acks):.0f} ms"
        " | |",
        f"| photo → \"Queued: #k\" edit, p99 | {percentile(acks, 0.99):.0f} ms | < 100 ms |",
        f"| restart → first job started | {result['to_first_job']:.2f} s | < 15 s |",
        f"| shutdown while re-announcing | {result['stop']:.2f} s | < 30 s |",
        "",
    ])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=1000)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/TELEGRAM.md"))
    args = parser.parse_args()
    result = await run(args.queued, args.people)
    text = report(args.queued, args.people, result,
                  "python -m benchmarks.telegram_ack " + " ".join(sys.argv[1:]))
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
