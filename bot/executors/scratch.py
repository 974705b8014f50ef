"""A worker's own folder for the files of the jobs it runs: people's photos, videos being made.

Each `i2vbot worker` process works in a folder of its own under one root and holds a lock on
it while it lives; the operating system drops the lock when the process ends, however it
ends (kill -9, a power cut). A worker that starts removes every folder whose lock it can
take: what a killed worker left does not outlive it. Each batch works in a subfolder that
is removed when the batch ends, however it ended.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)

LOCK = ".lock"


class Scratch:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._folder: Path | None = None
        self._lock: FileLock | None = None

    @property
    def folder(self) -> Path:
        assert self._folder is not None, "open() first"
        return self._folder

    def open(self) -> int:
        """Remove what dead workers left, then take a folder of this process's own; returns
        how many folders were removed."""
        self.root.mkdir(parents=True, exist_ok=True)
        # One worker at a time tidies and claims: a folder just made is never taken for a
        # dead one's before its owner holds its lock.
        with FileLock(self.root / LOCK):
            removed = sum(_remove_if_unowned(child) for child in sorted(self.root.iterdir())
                          if child.is_dir() and not child.name.startswith("."))
            self._folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.root))
            self._lock = FileLock(self._folder / LOCK)
            self._lock.acquire()
        if removed:
            log.warning("removed the files of %d stopped worker(s) from %s", removed, self.root)
        return removed

    def close(self) -> None:
        if self._lock is not None and self._folder is not None:
            self._lock.release()
            shutil.rmtree(self._folder, ignore_errors=True)
            self._lock = self._folder = None

    @contextmanager
    def batch(self) -> Iterator[Path]:
        """A folder for one batch, removed with all it holds when the batch ends."""
        with tempfile.TemporaryDirectory(prefix="batch-", dir=self.folder) as folder:
            yield Path(folder)


def _remove_if_unowned(folder: Path) -> bool:
    lock = FileLock(folder / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False  # its worker runs
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        lock.release()
    return True
