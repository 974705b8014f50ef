"""Logging to the console and a timestamped file under data/logs/, tokens scrubbed.

The platform libraries log request URLs and put tokens in exception messages (a Telegram
URL contains the bot token), so every handler's formatter replaces each configured secret,
and anything shaped like a Telegram token, in the whole formatted line, traceback included.
"""

from __future__ import annotations

import logging
import os
import re
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

TELEGRAM_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# `extra=` of a record for the log file only: the terminal has had its one line already.
FILE_ONLY = {"file_only": True}


class RedactSecrets(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return TELEGRAM_TOKEN.sub("[redacted]", text)

    def format(self, record: logging.LogRecord) -> str:
        return self.scrub(super().format(record))


class OneLine(RedactSecrets):
    """The terminal's formatter: the message without its traceback (that is in the file)."""

    def format(self, record: logging.LogRecord) -> str:
        kept = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = kept


def _for_the_terminal(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


def setup_logging(data_dir: Path, level: str, secrets: Iterable[str],
                  console: bool = True) -> Path:
    """Everything at `level` to a new file under data/logs/; warnings and errors also to
    the terminal, one line each (what the operator must see; the story behind them, with
    its traceback, is in the file)."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / time.strftime("i2vbot_%Y%m%d_%H%M%S.log")
    secrets = list(secrets)
    file = logging.FileHandler(path, encoding="utf-8")
    file.setFormatter(RedactSecrets(secrets))
    handlers: list[logging.Handler] = [file]
    if console:
        terminal = logging.StreamHandler()
        terminal.setLevel(logging.WARNING)
        terminal.setFormatter(OneLine(secrets))
        terminal.addFilter(_for_the_terminal)
        handlers.append(terminal)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every request at INFO (with the token in Telegram's URLs): too chatty.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return path


def quiet_libraries() -> None:
    """Keep the libraries' notes that are not the operator's business off the terminal
    (diffusers' deprecation of I2VGen-XL, transformers' optional packages, discord.py's
    voice support): they stay in the log file at DEBUG level when asked for."""
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")  # read when diffusers is imported
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(diffusers|transformers)")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(diffusers|transformers)")
    # SAQ warns at every worker stop that its housekeeping tasks needed cancelling.
    for name in ("discord.client", "discord.voice_state", "discord.player", "saq"):
        logging.getLogger(name).setLevel(logging.ERROR)
