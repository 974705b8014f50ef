"""Albums become one job per photo up to a limit; webhook mode receives updates by HTTP."""

from __future__ import annotations

import asyncio
import socket

import aiohttp

from adapters.startup import StartError
from bot.models import JobStatus
from tests.adapters.telegram_bot.conftest import FAST, Harness, Person, start_harness, stop_harness
from tests.fake_executor import FakeExecutor
from tests.images import make_photo


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


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _webhook_harness(api, data) -> tuple[Harness, str]:
    """The bot listening for webhooks on a port that was free a moment ago; another
    process may take it in between, so a port taken at start means: try another."""
    for _ in range(5):
        port = _unused_port()
        url = f"http://127.0.0.1:{port}/telegram-hook"
        try:
            return await start_harness(api, data, FakeExecutor(), TELEGRAM_WEBHOOK_URL=url,
                                       TELEGRAM_WEBHOOK_PORT=port,
                                       TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
                                       TELEGRAM_WEBHOOK_SECRET="s3cret-token"), url
        except StartError as exc:
            assert "TELEGRAM_WEBHOOK_PORT" in str(exc)
    raise AssertionError("no free port for the webhook in five tries")


async def test_webhook_mode_registers_the_url_and_answers_updates(api, tmp_path):
    harness, url = await _webhook_harness(api, tmp_path / "data")
    try:
        hook = await api.wait_call("setWebhook", 10)
        assert hook.fields["url"] == url and hook.fields["secret_token"] == "s3cret-token"
        ann = Person(api, 71)
        message = ann._message(text="/start", entities=[
            {"type": "bot_command", "offset": 0, "length": 6}])
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                url, json={"update_id": 1, "message": message},
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
            assert response.status == 200
        await ann.wait_text("Send me a photo", 10)
        assert api.polls == 0
    finally:
        await stop_harness(harness)


async def test_a_webhook_port_in_use_is_one_line_naming_the_setting(api, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            await start_harness(api, tmp_path / "data", FakeExecutor(),
                                TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
                                TELEGRAM_WEBHOOK_PORT=port, TELEGRAM_WEBHOOK_LISTEN="127.0.0.1")
        except StartError as exc:
            message = str(exc)
        else:
            raise AssertionError("started on a port in use")
    assert message.startswith(f"Telegram webhook: cannot listen on 127.0.0.1:{port}")
    assert message.endswith("check TELEGRAM_WEBHOOK_PORT.") and "\n" not in message


async def test_a_video_being_uploaded_at_shutdown_still_arrives(api, tmp_path):
    """Stopping lets the chats' pending messages go out before the bot's connection closes:
    a video in the middle of its upload is delivered now, not at the next start."""
    harness = await start_harness(api, tmp_path / "data", FakeExecutor())
    try:
        api.hold("sendVideo")
        ann = harness.person(71)
        await ann.photo(f"waves rolling in {FAST}")
        await api.wait_for(lambda: api.held, 30)  # the upload has begun
        stopping = asyncio.create_task(harness.adapter.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # it waits for the upload
        api.release("sendVideo")
        await asyncio.wait_for(stopping, 15)
        assert len(ann.videos()) == 1
        user = await harness.app.store.find_user("telegram", "71")
        job, = await harness.app.store.user_jobs(user.id, 10)
        assert job.status is JobStatus.DELIVERED
    finally:
        await harness.app.close()
