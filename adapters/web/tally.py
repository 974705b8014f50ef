"""Refusals counted, and logged as one line per interval instead of one line per request:
a flood of bad requests must not become a flood of log lines (nor fill the disk)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)

INTERVAL_S = 60.0


class Tally:
    def __init__(self, level: int = logging.INFO, interval: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.level = level
        self.interval = interval
        self.clock = clock
        self._counts: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()
        self._since: float | None = None

    def note(self, what: str, address: str = "") -> None:
        """One more `what` (a short phrase: "wrong passwords") from `address`."""
        now = self.clock()
        if self._since is None:
            self._since = now
        self._counts[what] += 1
        if address:
            self._addresses[address] += 1
        if now - self._since >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Log what was counted since the last line, if anything."""
        if not self._counts or self._since is None:
            return
        seconds = max(1, round(self.clock() - self._since))
        counts = ", ".join(f"{count} {what}" for what, count in self._counts.most_common())
        busiest = ""
        if self._addresses:
            address, count = self._addresses.most_common(1)[0]
            busiest = f" from {len(self._addresses)} addresses (most from {address}: {count})"
        log.log(self.level, "web: in the last %d s: %s%s", seconds, counts, busiest)
        self._counts.clear()
        self._addresses.clear()
        self._since = None
