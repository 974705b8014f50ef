"""Albums become one job per photo up to a limit; webhook mode receives updates by HTTP."""

from __future__ import annotations

import socket

import aiohttp

from tests.fake_executor import FakeExecutor
from tests.images import make_photo
from tests.telegram.conftest import FAST, Person, start_harness, stop_harness


async def test_an_album_gives_one_job_per_photo_up_to_the_limit(tg):
    ann = tg.person(70)
    await tg.app.lifecycle.set_paused(True)
    group = {"media_group_id": "album1"}
    await ann.photo(f"snow falling softly {FAST}", **group)
    for _ in range(4):
        await ann.photo(None, make_photo(150, 130), **group)
    await ann.wait_text("Only the first 4 photos")
    await tg.api.wait_for(lambda: len([t for t in ann.replies() if "Queued" in t]) >= 4, 20)
    user = await tg.app.store.find_user("telegram", "70")
    jobs = await tg.app.store.user_jobs(user.id, 10)
    assert len(jobs) == 4 and {j.params.prompt for j in jobs} == {"snow falling softly"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_registers_the_url_and_answers_updates(api, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    harness = await start_harness(api, tmp_path / "data", FakeExecutor(),
                                  TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_PORT=port,
                                  TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
                                  TELEGRAM_WEBHOOK_SECRET="s3cret")
    try:
        hook = await api.wait_call("setWebhook", 10)
        assert hook.fields["url"] == url and hook.fields["secret_token"] == "s3cret"
        ann = Person(api, 71)
        message = ann._message(text="/start", entities=[
            {"type": "bot_command", "offset": 0, "length": 6}])
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                url, json={"update_id": 1, "message": message},
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            assert response.status == 200
        await ann.wait_text("Send me a photo", 10)
        assert api.polls == 0
    finally:
        await stop_harness(harness)
