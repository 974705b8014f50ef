"""`i2vbot serve`: Telegram and Discord in one process, one queue, one engine."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from adapters.discord_bot import DiscordAdapter, DiscordConfig
from adapters.serve import serve
from adapters.telegram_bot import TelegramAdapter, TelegramConfig
from tests.adapters.discord_bot.conftest import animate_data, interaction
from tests.adapters.discord_bot.fake_discord import FakeDiscord
from tests.adapters.discord_bot.helpers import check_video, followup, send
from tests.adapters.telegram_bot.conftest import Person
from tests.adapters.telegram_bot.fake_bot_api import TOKEN, FakeBotApi
from tests.bot.conftest import FAST, make_settings, serving
from tests.images import make_photo


async def test_serve_runs_both_platforms_and_both_models_on_one_queue(tmp_path, tiny_model_dir,
                                                                      tiny_wan_dir, caplog):
    caplog.set_level(logging.INFO)
    telegram, discord = FakeBotApi(), FakeDiscord()
    await telegram.start()
    await discord.start()
    settings = make_settings(
        tmp_path / "data", I2V_MODEL=str(tiny_model_dir), I2V_WAN_MODEL=str(tiny_wan_dir),
        I2V_MODELS="i2vgen-xl,wan", TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=telegram.base_url, TELEGRAM_API_FILE_URL=telegram.file_url,
        DISCORD_BOT_TOKEN="fake-token")

    def adapters(settings, app):  # Discord's hosts resolve to the fake through its connector
        return [TelegramAdapter(TelegramConfig.from_settings(settings), app.core, app.admin),
                DiscordAdapter(DiscordConfig.from_settings(settings), app.core, app.admin,
                               discord.connector())]

    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop, adapters))
    try:
        await serving(caplog)  # no job is taken before the model is ready
        ann = Person(telegram, 10)
        await ann.photo("a cat turning its head --model wan --size 160x128 --frames 17 "
                        "--steps 10")
        attachment = discord.add_attachment("dog.jpg", make_photo(160, 128), "image/jpeg")
        payload = interaction(2, animate_data(attachment, f"a dog running {FAST}"))
        assert (await send(discord, payload)).json["type"] == 5  # deferred
        video = await ann.wait_video(timeout=90)
        assert "a cat turning its head\nWan 2.2 TI2V-5B · preset standard" in \
            video.fields["caption"]
        result = await followup(discord, payload, files=True, timeout=90)
        check_video(result, tmp_path)
        assert "I2VGen-XL · preset standard" in str(result.json)
    finally:
        stop.set()
        assert await asyncio.wait_for(server, 60) == 0
        await telegram.close()
        await discord.close()
    with sqlite3.connect(settings.db_path) as db:
        rows = db.execute("SELECT platform, status, json_extract(params, '$.model') FROM jobs "
                          "ORDER BY platform").fetchall()
    # One store, one queue, one worker that switched models.
    assert rows == [("discord", "delivered", "i2vgen-xl"), ("telegram", "delivered", "wan")]


async def test_a_rejected_token_stops_serve_with_a_message_that_hides_it(tmp_path, monkeypatch,
                                                                         capfd):
    from aiohttp import web

    from adapters.cli import main

    async def not_found(request: web.Request) -> web.Response:  # a wrong base URL, say
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                 status=404)

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", not_found)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    token = "123456789:AAE-a-very-secret-token-0123456789abc"
    for name, value in {"I2V_DATA_DIR": str(tmp_path / "data"), "TELEGRAM_BOT_TOKEN": token,
                        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
                        "TELEGRAM_API_FILE_URL": f"http://127.0.0.1:{port}/file/bot"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        code = await asyncio.to_thread(main, ["serve"])
    finally:
        await runner.cleanup()
    assert code == 1
    out, err = capfd.readouterr()
    assert "Telegram refused the bot token: check TELEGRAM_BOT_TOKEN" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert token not in out + err
    assert all(token not in p.read_text() for p in (tmp_path / "data" / "logs").glob("*.log"))
