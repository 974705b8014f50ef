"""`i2vbot worker` processes on the tiny model, started and killed by the tests.

Every worker of a farm runs on this machine with the same I2V_DATA_DIR, as workers sharing a
GPU host do: their job files are under `scratch`, one folder a process. What each says on
its terminal is kept (`said`), for tests that wait for a worker's words.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Farm:
    def __init__(self, url: str, model: Path, folder: Path, heartbeat_s: int) -> None:
        self.url, self.model, self.folder = url, model, folder
        self.heartbeat_s = heartbeat_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self._terminals: dict[int, Path] = {}

    @property
    def scratch(self) -> Path:
        """Where the workers keep the files of their jobs (adapters/worker_cli.SCRATCH)."""
        return self.folder / "worker"

    def start(self, count: int = 1, **settings: str) -> list[subprocess.Popen[bytes]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("I2V_")}
        env.update(I2V_REDIS_URL=self.url, I2V_MODEL=str(self.model),
                   I2V_DATA_DIR=str(self.folder), I2V_DEVICE="cpu",
                   I2V_WORKER_HEARTBEAT_S=str(self.heartbeat_s), PYTHONPATH=str(ROOT),
                   I2V_MODERATION_MODEL="tiny",  # its videos are checked as the bot asks
                   OMP_NUM_THREADS="1", **settings)  # two workers share the two cores
        self.folder.mkdir(parents=True, exist_ok=True)
        started = []
        for _ in range(count):
            terminal = self.folder / f"terminal-{len(self._terminals)}.txt"
            with terminal.open("wb") as out:
                proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "worker"],
                                        env=env, cwd=self.folder, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            self._terminals[proc.pid] = terminal
            started.append(proc)
        self.procs += started
        return started

    def said(self, pid: int | None = None) -> str:
        """What a worker (or every worker) wrote on its terminal so far."""
        paths = [self._terminals[pid]] if pid is not None else list(self._terminals.values())
        return "".join(path.read_text(errors="replace") for path in paths)

    async def until_said(self, words: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.said().count(words) < count:
            assert time.monotonic() < deadline, f"no worker said {words!r}:\n{self.said()}"
            await asyncio.sleep(0.1)

    def kill(self, pid: int) -> None:
        os.killpg(pid, signal.SIGKILL)
        for proc in self.procs:
            if proc.pid == pid:
                proc.wait()

    def ensure(self, count: int) -> None:
        """Top the farm up to `count` live processes (a test may have killed one)."""
        self.procs = [proc for proc in self.procs if proc.poll() is None]
        self.start(count - len(self.procs))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
