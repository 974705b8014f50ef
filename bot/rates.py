"""How often someone may do a thing: at most N times in any window of S seconds, per key
(a person, a client address).

The counting is the `limits` library's moving window in memory (one process serves the
page and the chats, so memory is the right storage); this only adds how long to wait.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimit:
    def __init__(self, amount: int, seconds: int, name: str) -> None:
        self.amount, self.seconds = amount, seconds
        self._item = RateLimitItemPerSecond(amount, seconds, namespace=name)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> float | None:
        """Count one event of `key`: None when allowed, else the seconds until it would be
        (the oldest event in the window leaving it)."""
        if self._limiter.hit(self._item, key):
            return None
        return self.retry_after(key)

    def allowed(self, key: str) -> bool:
        """Whether one more event of `key` would be allowed now, without counting it."""
        return self._limiter.test(self._item, key)

    def retry_after(self, key: str) -> float:
        reset = self._limiter.get_window_stats(self._item, key).reset_time
        return max(1.0, reset - time.time())  # the library's own clock
