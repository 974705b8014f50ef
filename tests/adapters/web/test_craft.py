"""The original app's craft on the web page: the coach's hint and the guidance warning
under the fields as one types (no request to the server), the recipe, focus and eta fields
that shape the job and are named under the video, and a Chinese prompt that I2VGen-XL reads
in English while the page shows both."""

from __future__ import annotations

import pytest

from tests.adapters.web.conftest import close, serve_page
from tests.adapters.web.test_page import card, fill, submit
from tests.bot.conftest import tiny_executor
from tests.engine.spy import Spy

try:
    from playwright.async_api import expect
    expect.set_options(timeout=30_000)
except ImportError:  # the browser fixture says why these tests skip
    expect = None

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_the_hint_and_the_warning_show_as_one_types_without_asking_the_server(
        page, served):
    await page.goto(served.url)
    asked: list[str] = []  # what the page's script asks the server (not the browser's own)
    page.on("request", lambda request: asked.append(request.url)
            if request.resource_type in ("fetch", "xhr") else None)
    hint = page.locator("#coach")
    await expect(hint).to_be_hidden()
    await page.locator("#prompt").press_sequentially("a man walks")
    await expect(hint).to_have_text(
        "💡 Motion comes out smoother with verbs in the progressive form: “walks” → “is "
        "walking”. Your prompt was used as written.")
    await page.fill("#prompt", "a man is walking")
    await page.locator("#prompt").dispatch_event("input")
    await expect(hint).to_be_hidden()
    await page.click("#advanced summary")
    warning = page.locator("#guidance-warning")
    await page.fill("input[name=guidance]", "12")
    await expect(warning).to_contain_text("Guidance 12 is above 10")
    await page.fill("input[name=guidance]", "9")
    await expect(warning).to_be_hidden()
    assert asked == []  # all of it in the page


async def test_recipe_focus_and_eta_shape_the_job_and_are_named_under_the_video(
        page, served):
    await page.goto(served.url)
    await fill(page, "a man walks forward", steps="60")
    await page.select_option("#recipe", "walking")
    assert [await page.input_value(f"input[name={name}]")
            for name in ("frames", "fps", "steps", "guidance")] == ["16", "8", "60", "9"]
    assert await page.locator("select[name=resolution]").is_disabled()  # its size is its own
    await page.check("#focus")
    await page.fill("input[name=eta]", "0.3")
    job_id = await submit(page)
    job = card(page, job_id)
    await expect(job.locator(".advice")).to_contain_text("“walks” → “is walking”")
    await expect(job.locator(".params")).to_contain_text(
        "recipe walking · 🎯 subject in focus · eta 0.3")
    assert "640x384 · 16 frames @ 8 fps · 60 steps" in await job.locator(".params").inner_text()
    stored = await served.app.store.get_job(job_id)
    assert stored is not None
    assert (stored.params.recipe, stored.params.focus, stored.params.eta) == (
        "walking", 1.5, 0.3)


@pytest.mark.slow
async def test_a_chinese_prompt_reaches_i2vgen_xl_in_english_and_both_are_shown(
        browser, web_settings, tiny_engine, tiny_classifier, tiny_translator, monkeypatch):
    spy = Spy(tiny_engine, monkeypatch)
    served = await serve_page(web_settings,
                              tiny_executor(tiny_engine, tiny_classifier, tiny_translator))
    context = await browser.new_context(locale="zh-CN")
    try:
        page = await context.new_page()
        await page.goto(served.url)
        await fill(page, "一个女人在微笑着挥手 --size 128x128")
        job_id = await submit(page)
        params = card(page, job_id).locator(".params")
        await expect(params).to_contain_text("I2VGen-XL 读到的是：a woman is smiling and "
                                             "waving", timeout=120_000)
        assert (await params.inner_text()).startswith("🎬 一个女人在微笑着挥手")
        assert spy.encoded[0] == "a woman is smiling and waving"
    finally:
        await context.close()
        await close(served)
