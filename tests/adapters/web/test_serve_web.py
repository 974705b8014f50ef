"""`i2vbot serve` and the web page: with no chat token the page is what it serves; a page
that would be open to the network without a password, or whose port is taken, stops
`serve` with one line naming the setting to fix."""

from __future__ import annotations

import asyncio
import re
import socket

import aiohttp
import pytest

from adapters.cli import main
from adapters.serve import serve
from tests.adapters.web.conftest import eventually
from tests.bot.conftest import make_settings

PAGE_LINE = re.compile(r"The web page is at (http://127\.0\.0\.1:\d+)")


def env(monkeypatch, tmp_path, **values: str) -> None:
    """A clean environment for `i2vbot serve`: no tokens, no .env, data under tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "I2V_WEB", "I2V_WEB_HOST",
                 "I2V_WEB_PORT", "I2V_WEB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("I2V_DATA_DIR", str(tmp_path / "data"))
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_the_page_runs_by_default_only_when_no_chat_is_configured(tmp_path):
    def enabled(**values: str) -> bool:
        return make_settings(tmp_path, **values).web_enabled

    assert enabled()
    assert not enabled(TELEGRAM_BOT_TOKEN="1:x") and not enabled(DISCORD_BOT_TOKEN="x")
    assert enabled(TELEGRAM_BOT_TOKEN="1:x", I2V_WEB="on")
    assert not enabled(I2V_WEB="off")


async def test_serve_without_a_token_opens_the_page_with_the_tiny_model(tmp_path,
                                                                        tiny_model_dir, capfd):
    settings = make_settings(tmp_path / "data", I2V_MODEL=str(tiny_model_dir), I2V_WEB_PORT=0)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop))
    printed = ""

    async def page_announced() -> bool:
        nonlocal printed
        printed += capfd.readouterr().err
        assert not server.done(), printed
        return PAGE_LINE.search(printed) is not None and "Ctrl-C stops it" in printed

    try:
        await eventually(page_announced, timeout=60)
        # The first start made the signing certificate, and said so (once it was serving).
        assert "Content Credentials: made local certificate" in printed
        assert (tmp_path / "data" / "c2pa" / "signer.key").is_file()
        url = PAGE_LINE.search(printed).group(1)
        async with aiohttp.ClientSession() as browser, browser.get(url) as response:
            assert response.status == 200
            assert "i2v-bot: photo to video" in await response.text()
    finally:
        stop.set()
        assert await asyncio.wait_for(server, 60) == 0


def test_binding_to_the_network_without_a_password_is_refused_in_one_line(tmp_path,
                                                                          monkeypatch, capfd):
    env(monkeypatch, tmp_path, I2V_WEB_HOST="0.0.0.0")
    assert main(["serve"]) == 1
    err = capfd.readouterr().err.strip()
    assert err == ("I2V_WEB_HOST=0.0.0.0 would open the web page to the network without a "
                   "password: set I2V_WEB_PASSWORD, or I2V_WEB_HOST=127.0.0.1 to keep it on "
                   "this machine.")


def test_a_port_in_use_is_refused_in_one_line_naming_the_setting(tmp_path, monkeypatch,
                                                                 capfd):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env(monkeypatch, tmp_path, I2V_WEB_PORT=str(port))
        assert main(["serve"]) == 1
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"The web page cannot listen on 127.0.0.1:{port} (")
    assert err.endswith("): set I2V_WEB_PORT to a free port.")


def test_a_password_never_reaches_the_terminal_or_the_log(tmp_path, monkeypatch, capfd):
    password = "a-long-secret-password-4711"
    with socket.socket() as taken:  # a quick way to stop serve after its settings are read
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        env(monkeypatch, tmp_path, I2V_WEB_HOST="0.0.0.0", I2V_WEB_PASSWORD=password,
            I2V_WEB_PORT=str(taken.getsockname()[1]))
        assert main(["serve"]) == 1
    out, err = capfd.readouterr()
    assert "check I2V_WEB_HOST" in err and password not in out + err
    logs = list((tmp_path / "data" / "logs").glob("*.log"))
    assert logs and all(password not in log.read_text() for log in logs)


@pytest.mark.parametrize("value", ["maybe", "70000"])
def test_bad_web_settings_are_named(tmp_path, monkeypatch, capfd, value):
    name = "I2V_WEB" if value == "maybe" else "I2V_WEB_PORT"
    env(monkeypatch, tmp_path, **{name: value})
    assert main(["serve"]) == 2
    assert capfd.readouterr().err.startswith(f"Setting {name}='{value}' is not valid: ")
