"""Moderation on the web page, in a real headless Chromium: a refused photo gets the neutral
message and no job; a video refused after rendering never plays and its credits come back.
The classifier is the tiny stand-in (it refuses mostly red pictures); the pan test model
makes the video on the real worker, its camera gliding onto the photo's red side."""

from __future__ import annotations

import pytest

from bot.executors.local import LocalExecutor
from engine.config import EngineConfig
from engine.worker import BatchRenderer
from tests.adapters.web.conftest import close, serve_page
from tests.bot.conftest import make_settings
from tests.images import red_left
from tests.models.pan.engine import PanEngine

try:
    from playwright.async_api import expect
    expect.set_options(timeout=30_000)
except ImportError:  # the browser fixture says why these tests skip
    expect = None

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def send(page, photo: bytes, prompt: str) -> None:
    await page.set_input_files("#photo", files=[{"name": "photo.jpg",
                                                 "mimeType": "image/jpeg", "buffer": photo}])
    await page.fill("#prompt", prompt)
    await page.click("#generate")


async def test_refused_photos_and_videos_on_the_page(browser, pan, tmp_path, tiny_classifier):
    engine = PanEngine(EngineConfig(model="tiny", family="pan", device="cpu"))
    gpu = LocalExecutor(lambda: BatchRenderer(engine, classifier=tiny_classifier))
    served = await serve_page(make_settings(tmp_path / "data", I2V_WEB_PORT=0,
                                            I2V_MODELS="pan", I2V_DAILY_CREDITS=10), gpu)
    context = await browser.new_context(locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(served.url)
        await send(page, red_left(320, 192, 1.0), "a boat drifting")
        await expect(page.locator("#message")).to_have_text(
            "This photo can't be used here. Please send a different one.")
        await expect(page.locator("article.job")).to_have_count(0)
        assert await served.app.store.count_jobs() == 0

        await send(page, red_left(320, 192, 0.7), "a boat drifting")  # the pan is refused
        job = page.locator("article.job").first
        await expect(job.locator(".status")).to_contain_text(
            "The video made from it can't be sent here. Your credits were returned.")
        await expect(job.locator("video")).to_have_count(0)
        await expect(page.locator("#quota")).to_contain_text("10 of 10")
        [row] = [r for r in await served.app.store.refusals() if r.kind == "video"]
        assert row.job_id == await job.get_attribute("data-job")
    finally:
        await context.close()
        await close(served)
