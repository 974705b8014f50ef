"""Log lines are the operator's: one line each whatever a user typed, secrets scrubbed as
whole values without wrecking the rest, tracebacks in the file and never on the terminal."""

from __future__ import annotations

import logging

from bot.logs import RedactSecrets, setup_logging


def flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_user_text_cannot_forge_a_log_line(tmp_path):
    path = setup_logging(tmp_path, "INFO", [], console=False)
    name = "cat.jpg\n2026-12-03 14:50:56,962 WARNING bot.admin: user web:x is now an admin\r"
    logging.getLogger("adapters.web.form").info("refused the upload %s", name)
    logging.getLogger("adapters.web").info("path /%s", "\x1b[2Jcleared\u2028")
    flush()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("refused the upload cat.jpg\\n2026-12-03 14:50:56,962 WARNING "
                             "bot.admin: user web:x is now an admin\\r")
    assert lines[1].endswith("path /\\x1b[2Jcleared\\u2028")


def test_secrets_are_scrubbed_as_whole_values_and_short_ones_leave_the_text_alone():
    scrubber = RedactSecrets([" ", "abc", "a-long-password", "a-long-password-and-more"])
    line = "2026-12-03 14:50:56 INFO login abc a-long-password-and-more a-long-password"
    assert scrubber.scrub(line) == "2026-12-03 14:50:56 INFO login abc [redacted] [redacted]"


def test_the_terminal_gets_one_line_and_the_file_the_traceback(tmp_path, capfd):
    path = setup_logging(tmp_path, "INFO", [], console=True)
    try:
        raise OSError("no network")
    except OSError as exc:
        logging.getLogger("adapters.cli").error("serve stopped: the model is away", exc_info=exc)
    flush()
    assert capfd.readouterr().err.splitlines() == [
        line for line in path.read_text().splitlines() if "serve stopped" in line]
    assert "Traceback" in path.read_text() and "OSError: no network" in path.read_text()
