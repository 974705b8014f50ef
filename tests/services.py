"""Real services the tests use when the machine has them (Redis), skipped with a clear reason
when it does not; CI sets I2V_REQUIRE_SERVICES=1, which turns that skip into a failure."""

from __future__ import annotations

import itertools
import os
import socket

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
_databases = itertools.cycle(range(1, 16))  # one Redis database per test, flushed first


def unavailable(reason: str) -> None:
    if os.environ.get("I2V_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (I2V_REQUIRE_SERVICES=1: this run must not skip it)")
    pytest.skip(reason)


def redis_url() -> str:
    """A freshly emptied Redis database for one test."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as conn:
            db = next(_databases)
            conn.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
            if conn.recv(64).count(b"+OK") < 1:
                raise OSError("Redis did not answer SELECT/FLUSHDB")
    except OSError as exc:
        unavailable(f"no Redis server answers on {REDIS_HOST}:{REDIS_PORT} ({exc}); start one "
                    "to run the scale-out tests")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
