"""Flood control: a 429 is waited out and retried; the video still arrives."""

from __future__ import annotations

from tests.adapters.telegram_bot.conftest import FAST


async def test_a_429_is_retried_and_the_video_still_arrives(tg):
    ann = tg.person(30)
    tg.api.fail_next["sendVideo"] = 1
    tg.api.fail_next["sendMessage"] = 1
    await ann.photo(f"a candle flickering {FAST}")
    video = await ann.wait_video()
    attempts = tg.api.of("sendVideo", chat_id=30)
    assert [c.result["ok"] for c in attempts] == [False, True]
    assert attempts[0].result["parameters"]["retry_after"] == 1
    assert attempts[1].at - attempts[0].at >= 1.0  # retry_after was honoured
    assert video.files
    sends = tg.api.of("sendMessage", chat_id=30)
    assert [c.result["ok"] for c in sends] == [False, True]
