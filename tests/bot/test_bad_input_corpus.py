"""A corpus of malformed settings and command lines: each is answered by one clear line
that names what to fix, with a non-zero exit and no traceback."""

from __future__ import annotations

import pytest

from adapters.cli import main
from tests.images import make_photo

SETTINGS = [
    ("I2V_ADMINS", "telegram:@ann", "telegram:<numeric id>"),
    ("I2V_ADMINS", "Telegram:123", "telegram:<numeric id>"),
    ("I2V_ADMINS", "telegram: 123", "telegram:<numeric id>"),
    ("I2V_ADMINS", "discord:ann#1234", "discord:<numeric id>"),
    ("I2V_ADMINS", "123456", "telegram:<numeric id>"),
    ("I2V_DTYPE", "fp8", "use one of auto, bf16, fp16, fp32"),
    ("I2V_ATTENTION", "fastest", "use one of sdpa, flash"),
    ("I2V_DEFAULT_PRESET", "ultra", "preview, standard, high, max"),
    ("I2V_MAX_BATCH", "0", "use a whole number from 1 to 8"),
    ("I2V_MAX_BATCH", "many", "use a whole number from 1 to 8"),
    ("I2V_RESET_HOUR_UTC", "24", "use a whole hour from 0 to 23"),
    ("I2V_DAILY_CREDITS", "-1", "greater than or equal to 0"),
    ("I2V_DAILY_CREDITS", "lots", "valid number"),
    ("I2V_MAX_JOBS_PER_USER", "0", "greater than or equal to 1"),
    ("I2V_MAX_QUEUE", "1.5", "valid integer"),
    ("I2V_CPU_OFFLOAD", "maybe", "valid boolean"),
    ("I2V_OUTPUT_RETENTION_DAYS", "-3", "greater than or equal to 0"),
    ("I2V_DECODE_CHUNK_SIZE", "0", "greater than or equal to 1"),
    ("TELEGRAM_MAX_ALBUM", "20", "use a whole number from 1 to 10"),
    ("TELEGRAM_WEBHOOK_PORT", "https", "valid integer"),
    ("TELEGRAM_UPLOAD_LIMIT_MB", "0", "greater than 0"),
    ("DISCORD_GUILD_ID", "my-server", "the server's numeric id"),
    ("DISCORD_SYNC_COMMANDS", "sometimes", "use one of auto, always, never"),
    ("DISCORD_ALLOW_DMS", "perhaps", "valid boolean"),
]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("I2V_DATA_DIR", str(tmp_path / "data"))
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize(("name", "value", "expected"), SETTINGS)
def test_a_malformed_setting_is_one_line_naming_it(env, monkeypatch, capsys, name, value,
                                                   expected):
    monkeypatch.setenv(name, value)
    assert main(["doctor"]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and out == "", lines
    assert lines[0].startswith(f"Setting {name}={value!r} is not valid:")
    assert expected in lines[0]


def test_a_token_in_a_bad_setting_is_never_echoed(env, monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:very-secret")
    monkeypatch.setenv("I2V_MAX_QUEUE", "x")
    assert main(["doctor"]) == 2
    assert "very-secret" not in capsys.readouterr().err


COMMAND_LINES = [
    (["animate"], "the following arguments are required: photo, caption"),
    (["animate", "photo.jpg"], "the following arguments are required: caption"),
    (["animate", "photo.jpg", "waves", "--seed", "3"], "flags belong inside the caption"),
    (["animate", "photo.jpg", "waves", "extra"], "unrecognized arguments: extra"),
    (["animte", "photo.jpg", "waves"], "invalid choice: 'animte'"),
    (["serve", "--now"], "unrecognized arguments: --now"),
    (["animate", "missing.jpg", "waves"], "Cannot read missing.jpg"),
    (["animate", "notes.jpg", "waves"], "not an image I can read"),
    (["animate", "small.png", "waves"], "at least 128 pixels"),
    (["animate", "photo.jpg", "waves --frames 99"], "frames must be between 8 and 32"),
    (["animate", "photo.jpg", "waves --preset ultra"], "--preset needs one of"),
    (["animate", "photo.jpg", "--seed 3"], "Add a caption describing the motion"),
]


@pytest.mark.parametrize(("argv", "expected"), COMMAND_LINES)
def test_a_malformed_command_line_is_one_clear_line(env, capsys, argv, expected):
    (env / "photo.jpg").write_bytes(make_photo(192, 128))
    (env / "notes.jpg").write_text("not a photo")
    (env / "small.png").write_bytes(make_photo(100, 60, "PNG"))
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse ends the program itself
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert expected in err[-1] and "Traceback" not in "\n".join(err)
    assert len([line for line in err if not line.startswith("usage:")]) == 1, err
