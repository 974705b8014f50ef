"""Logging to the console and a timestamped file under data/logs/, tokens scrubbed.

The platform libraries log request URLs, and a Telegram URL contains the bot token, so a
filter on every handler replaces each configured secret (and anything shaped like a
Telegram token) before a line is written anywhere.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from pathlib import Path

TELEGRAM_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def scrub(self, message: str) -> str:
        for secret in self.secrets:
            message = message.replace(secret, "[redacted]")
        return TELEGRAM_TOKEN.sub("[redacted]", message)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def setup_logging(data_dir: Path, level: str, secrets: Iterable[str],
                  console: bool = True) -> Path:
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / time.strftime("i2vbot_%Y%m%d_%H%M%S.log")
    redact = RedactSecrets(secrets)
    handlers: list[logging.Handler] = [logging.FileHandler(path, encoding="utf-8")]
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.addFilter(redact)
        handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request at INFO (with the token in Telegram's URLs): too chatty.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return path
