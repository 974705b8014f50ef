"""A model is one folder: a third model defined only under tests/models/pan/ and registered
here is offered, priced, checked, explained and served end to end, from the terminal and
in Telegram, with no file of bot/, engine/ or adapters/ naming it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from adapters.cli import main
from bot.executors.local import LocalExecutor
from bot.settings import Settings, variables
from engine.config import EngineConfig
from engine.video import read_video
from engine.worker import BatchRenderer
from tests.adapters.telegram_bot.conftest import start_harness, stop_harness
from tests.adapters.telegram_bot.fake_bot_api import FakeBotApi
from tests.images import make_photo
from tests.models.pan.engine import PanEngine

ROOT = Path(__file__).resolve().parents[1]


def test_no_file_of_the_bot_names_the_third_model():
    for package in ("bot", "engine", "adapters"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            assert not re.search(r"\bpan\b|tests\.models", text, re.IGNORECASE), path


def test_its_settings_and_ranges_come_from_its_card(pan, tmp_path):
    settings = Settings(_env_file=None, I2V_MODELS="i2vgen-xl,pan", I2V_PAN_MODEL="/m/pan",
                        I2V_DATA_DIR=tmp_path)
    assert settings.models == ["i2vgen-xl", "pan"]
    assert settings.weights("pan") == "/m/pan" and settings.weights_setting("pan") == \
        "I2V_PAN_MODEL"
    assert "I2V_PAN_MODEL" in variables()


def test_the_terminal_makes_a_video_with_it(pan, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("I2V_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("I2V_MODEL", "tiny")
    monkeypatch.setenv("I2V_MODELS", "i2vgen-xl,pan")
    photo = tmp_path / "boat.jpg"
    photo.write_bytes(make_photo(320, 192))
    out = tmp_path / "pan.mp4"
    assert main(["animate", str(photo), "a boat drifting --model pan --frames 8",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    params = json.loads(open(printed.split("Parameters: ")[1].strip()).read())
    assert params["model"] == "pan" and params["frames"] == 8 and params["steps"] == 3
    frames, fps = read_video(out)
    assert frames.shape[0] == 8 and fps == 6  # its standard preset's fps
    # The camera moves: the first and last frames differ, neighbours much less.
    first, second, last = (frames[i].astype(int) for i in (0, 1, -1))
    assert np.abs(first - last).mean() > np.abs(first - second).mean()
    assert main(["presets"]) == 0
    assert "Pan (a test model)" in capsys.readouterr().out
    # Its ranges are its own: a count the card refuses is refused with its numbers.
    assert main(["animate", str(photo), "a boat --model pan --frames 30"]) == 2
    assert "4 and 12" in capsys.readouterr().err


async def test_telegram_serves_it(pan, tmp_path, tiny_classifier):
    engine = PanEngine(EngineConfig(model="tiny", family="pan", device="cpu"))
    gpu = LocalExecutor(lambda: BatchRenderer(engine, classifier=tiny_classifier))
    api = FakeBotApi()
    await api.start()
    harness = await start_harness(api, tmp_path / "data", gpu, I2V_MODELS="pan")
    try:
        person = harness.person(5)
        await person.photo("a boat drifting slowly", size=(320, 192))
        video = await person.wait_video()
        assert "Pan (a test model)" in video.fields["caption"]
        assert "6 frames @ 6 fps" in video.fields["caption"]
    finally:
        await stop_harness(harness)
        await api.close()
