"""Logging to the console and a timestamped file under data/logs/, tokens scrubbed.

The platform libraries log request URLs and put tokens in exception messages (a Telegram
URL contains the bot token), so every handler's formatter replaces each configured secret
as a whole value (never shorter than `MIN_SECRET`: a short one would scrub every word that
contains it), and anything shaped like a Telegram token, in the whole formatted line,
traceback included.

A log line is one line: control characters in a message (a newline in a URL or a file name
someone sent) are written escaped, so user text cannot forge a line of its own. The terminal
gets the message only; tracebacks go to the log file.
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
MIN_SECRET = 8  # characters; the settings refuse a shorter web password
FILE_ONLY = {"terminal": False}  # `extra=` of a record the terminal says in its own words
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
ESCAPES = {"\n": "\\n", "\r": "\\r"}


def escape_controls(text: str) -> str:
    """Text on one line: control characters as escapes (`\\n`, `\\x1b`), tabs kept."""
    return CONTROL.sub(lambda m: ESCAPES.get(m.group(), m.group().encode(
        "unicode_escape").decode()), text)


class RedactSecrets(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT, *,
                 tracebacks: bool = True) -> None:
        super().__init__(fmt)
        # The longest first: a secret that contains another is scrubbed whole.
        self.secrets = sorted((s for s in secrets if len(s) >= MIN_SECRET), key=len,
                              reverse=True)
        self.tracebacks = tracebacks

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return TELEGRAM_TOKEN.sub("[redacted]", text)

    def format(self, record: logging.LogRecord) -> str:
        line = logging.makeLogRecord(record.__dict__)  # the other handlers keep the original
        line.msg, line.args = escape_controls(record.getMessage()), None
        if not self.tracebacks:
            line.exc_info = line.exc_text = line.stack_info = None
        return self.scrub(super().format(line))


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
        terminal.setFormatter(RedactSecrets(secrets, tracebacks=False))
        terminal.addFilter(lambda record: getattr(record, "terminal", True))
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
