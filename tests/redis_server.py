"""A redis-server of a test's own, on a free port and without persistence (`--save ""
--appendonly no`), so that the test can kill it, start it again empty, or stop it with its
data saved and start it again with them. Skipped with a reason when the machine has no
`redis-server` (CI requires it: I2V_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from tests.services import unavailable

READY_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, folder: Path, password: str | None = None) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            unavailable("no redis-server on this machine; install it to run the Redis "
                        "outage tests")
        self.folder = folder
        self.password = password
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, socket_timeout=5)

    def start(self, *, empty: bool = True) -> None:
        """Start it (again), empty or with the data it saved when it was stopped; returns
        once it answers."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if empty:
            (self.folder / "dump.rdb").unlink(missing_ok=True)
        assert self.binary is not None
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
                "--dbfilename", "dump.rdb", "--logfile", str(self.folder / "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + READY_S
        while True:
            assert self.proc.poll() is None, (self.folder / "redis.log").read_text()
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        """kill -9: whatever it held is gone (nothing is saved)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop_keeping_data(self) -> None:
        """Stop it with its data saved to disk, for `start(empty=False)`."""
        assert self.proc is not None
        with self.client() as client, contextlib.suppress(redis.exceptions.ConnectionError):
            client.shutdown(save=True)
        self.proc.wait(30)
        assert (self.folder / "dump.rdb").exists()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
