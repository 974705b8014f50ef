"""The web page in a real headless Chromium: a photo and a caption become a video whose place
in line and progress show live, that plays and downloads; bad files are explained on the
page; each browser is its own person; the page speaks English and Chinese."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from bot.models import JobStatus
from tests.adapters.web.conftest import close, eventually, serve_page
from tests.bot.conftest import make_settings, tiny_executor
from tests.credentials import made_by_ai
from tests.images import make_photo

try:
    from playwright.async_api import expect
    expect.set_options(timeout=30_000)  # a loaded CI machine; passing tests take far less
except ImportError:  # the browser fixture says why these tests skip
    expect = None

pytestmark = pytest.mark.asyncio(loop_scope="module")
ROOT = Path(__file__).resolve().parents[3]


async def fill(page, prompt: str, photo: bytes | None = None, *, preset: str = "preview",
               steps: str = "10") -> None:
    await page.set_input_files("#photo", files=[{
        "name": "photo.jpg", "mimeType": "image/jpeg",
        "buffer": photo if photo is not None else make_photo(160, 128)}])
    await page.fill("#prompt", prompt)
    await page.select_option("#preset", preset)
    if not await page.locator("#advanced").evaluate("details => details.open"):
        await page.click("#advanced summary")
    await page.fill("input[name=steps]", steps)


async def submit(page) -> str:
    """Send the form; the id of the job whose card appears."""
    before = await page.locator("article.job").count()
    await page.click("#generate")
    await expect(page.locator("article.job")).to_have_count(before + 1)
    job_id = await page.locator("article.job").first.get_attribute("data-job")
    assert job_id
    return job_id


def card(page, job_id: str):
    return page.locator(f"article.job[data-job='{job_id}']")


async def test_a_photo_and_a_caption_become_a_video_with_live_progress(page, served, gpu):
    gpu.script("cat", hold_at=2)
    await page.goto(served.url)
    await fill(page, "a cat turning its head slowly")
    job_id = await submit(page)
    job = card(page, job_id)
    await expect(job.locator(".status")).to_contain_text("step 2/10")
    await expect(job.locator("progress")).to_have_js_property("value", 2)
    await expect(job.locator("button.cancel")).to_be_visible()

    gpu.release(job_id)
    video = job.locator("video")
    await expect(video).to_be_visible()
    await expect(job.locator(".status")).to_contain_text(f"Done: job {job_id}")
    await expect(job.locator("button.cancel")).to_be_hidden()
    params = await job.locator(".params").inner_text()
    for part in ("a cat turning its head slowly", "preset preview", "576x448",
                 "8 frames @ 8 fps", "10 steps", "guidance 9.0", f"job {job_id}"):
        assert part in params
    handle = await video.element_handle()
    await page.wait_for_function("v => v.readyState >= 2 && v.duration > 0", arg=handle)
    await video.evaluate("v => v.play()")
    await page.wait_for_function("v => v.currentTime > 0", arg=handle)  # it really plays

    async with page.expect_download() as download_info:
        await job.locator("a.download").click()
    download = await download_info.value
    assert download.suggested_filename == f"i2v-{job_id}.mp4"
    downloaded = Path(await download.path())
    assert downloaded.read_bytes()[4:8] == b"ftyp"
    action = made_by_ai(downloaded)  # what the person saves says a model made it
    assert action["parameters"]["model"] == "i2vgen-xl" and \
        action["parameters"]["job"] == job_id

    async def delivered() -> bool:  # the person has the video: the job is over
        stored = await served.app.store.get_job(job_id)
        return stored is not None and stored.status is JobStatus.DELIVERED
    await eventually(delivered)
    await expect(page.locator(f"#history li[data-job='{job_id}'] video")).to_have_count(1)
    await expect(page.locator("#quota")).to_contain_text("9.9 of 10")  # 10 steps: 0.1 credit


async def test_the_place_in_line_shows_and_cancel_gives_the_credits_back(page, served, gpu):
    gpu.script("dog", hold_at=1)
    await page.goto(served.url)
    await fill(page, "a dog running across the grass")
    running = await submit(page)
    await expect(card(page, running).locator(".status")).to_contain_text("step 1/10")
    await fill(page, "a cat turning its head")
    waiting = await submit(page)
    await expect(card(page, waiting).locator(".status")).to_contain_text("#1 in line")

    await card(page, waiting).locator("button.cancel").click()
    await expect(card(page, waiting).locator(".status")).to_contain_text("was cancelled")
    await card(page, running).locator("button.cancel").click()
    await expect(card(page, running).locator(".status")).to_contain_text("was cancelled")
    await expect(card(page, running).locator("button.cancel")).to_be_hidden()
    await expect(page.locator("#quota")).to_contain_text("10 of 10")
    assert gpu.submitted == [[running]]  # the cancelled waiting job never reached the GPU


async def test_a_bad_file_gets_its_message_on_the_page(page, served):
    await page.goto(served.url)
    await page.fill("#prompt", "a cat turning its head")
    await page.click("#generate")
    await expect(page.locator("#message")).to_have_text(
        "Choose a photo first: drop it on the box, paste it, or click the box.")

    await page.evaluate("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["just some notes"], "notes.txt", {type: "text/plain"}));
        document.getElementById("drop").dispatchEvent(
            new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""")  # dropped on the box
    await page.click("#generate")
    await expect(page.locator("#message")).to_have_text(
        "“notes.txt” is not an image. Attach a JPEG, PNG or WebP photo.")

    small = base64.b64encode(make_photo(100, 80, "PNG")).decode()
    await page.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "small.png", {type: "image/png"}));
        document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data,
                                                            bubbles: true, cancelable: true}));
    }""", small)  # pasted anywhere on the page
    await expect(page.locator("#preview")).to_be_visible()
    await page.click("#generate")
    await expect(page.locator("#message")).to_have_text(
        "The photo is 100x80; it needs at least 128 pixels on the short side. Send a larger "
        "photo.")
    await expect(page.locator("article.job")).to_have_count(0)
    assert await served.app.store.count_jobs() == 0


async def test_each_browser_is_its_own_person_in_its_own_language(browser, served):
    ann_context = await browser.new_context(locale="en-US")
    bob_context = await browser.new_context(locale="zh-CN")
    try:
        ann, bob = await ann_context.new_page(), await bob_context.new_page()
        await ann.goto(served.url)
        await fill(ann, "waves rolling slowly")
        job_id = await submit(ann)
        await expect(ann.locator(f"#history li[data-job='{job_id}']")).to_have_count(1)

        await bob.goto(served.url)
        await expect(bob.locator("h1")).to_have_text("i2v-bot：照片转视频")
        await expect(bob.locator("#history")).to_contain_text("你还没有生成过视频。")
        await expect(bob.locator("article.job")).to_have_count(0)
        ann_id, bob_id = await ann.locator("footer").inner_text(), \
            await bob.locator("footer").inner_text()
        assert "web:" in ann_id and "web:" in bob_id and ann_id.split()[2] not in bob_id
        response = await bob.request.get(f"{served.url}/videos/{job_id}.mp4")
        assert response.status == 404  # not Bob's video
        response = await bob.request.post(f"{served.url}/api/jobs/{job_id}/cancel",
                                          headers={"Origin": served.url})
        assert response.status == 400  # nor Bob's to cancel
        assert f"No job {job_id} of yours was found." in (await response.json())["error"]

        await bob.click("#language")  # the switch, remembered by a cookie
        await expect(bob.locator("#history")).to_contain_text("You have no videos yet.")
        await bob.goto(served.url)
        await expect(bob.locator("h1")).to_have_text("i2v-bot: photo to video")
    finally:
        await ann_context.close()
        await bob_context.close()


@pytest.mark.slow
async def test_the_tiny_model_makes_the_video_the_page_plays(browser, web_settings,
                                                             tiny_engine, tiny_classifier):
    """The real engine behind the page; with I2V_SCREENSHOT=docs/web.png, the README's
    screenshot is taken here."""
    served = await serve_page(web_settings, tiny_executor(tiny_engine, tiny_classifier))
    context = await browser.new_context(locale="en-US", viewport={"width": 1280,
                                                                  "height": 860})
    try:
        page = await context.new_page()
        await page.goto(served.url)
        photo = (ROOT / "data/examples/landscape.jpg").read_bytes()
        await fill(page, "waves rolling slowly onto the beach --size 192x128", photo,
                   steps="10")
        job_id = await submit(page)
        video = card(page, job_id).locator("video")
        await expect(video).to_be_visible(timeout=120_000)
        handle = await video.element_handle()
        await page.wait_for_function("v => v.readyState >= 2 && v.duration > 0", arg=handle)
        assert "192x128" in await card(page, job_id).locator(".params").inner_text()
        if os.environ.get("I2V_SCREENSHOT"):  # a still frame, every player settled
            await video.evaluate("""v => new Promise(seeked => {
                v.pause();
                v.addEventListener("seeked", seeked, {once: true});
                v.currentTime = v.duration / 2;
            })""")
            await page.wait_for_function("""() => [...document.querySelectorAll("video")]
                .every(v => !v.seeking && (v.preload === "none" || v.readyState >= 2))""")
            # Cosmetic, only for the picture: Chromium's players show a loading animation
            # for their first moments, whatever the state of the video.
            await page.wait_for_timeout(3000)
            await page.screenshot(path=ROOT / os.environ["I2V_SCREENSHOT"], full_page=True)
    finally:
        await context.close()
        await close(served)


async def test_choosing_another_model_shows_its_presets_and_makes_its_job(browser, tmp_path,
                                                                         gpu):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_DAILY_CREDITS=10,
                             I2V_MODELS="i2vgen-xl,wan")
    served = await serve_page(settings, gpu)
    context = await browser.new_context(locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(served.url)
        await expect(page.locator("#preset option[value=standard]")).to_contain_text(
            "1 credit")
        await page.select_option("#model", "wan")
        await expect(page).to_have_url(re.compile(r"\?model=wan$"))
        await expect(page.locator("#model")).to_have_value("wan")
        await expect(page.locator("#preset option[value=standard]")).to_contain_text(
            "3.43 credits")
        await fill(page, "waves rolling in", preset="preview")
        assert await page.input_value("input[name=frames]") == "49"  # Wan's preview
        job_id = await submit(page)
        job = await served.app.store.get_job(job_id)
        assert job is not None and job.params.model == "wan" and job.params.frames == 49
    finally:
        await context.close()
        await close(served)


async def test_another_page_of_this_host_cannot_frame_the_page(page, served):
    """A page on another port of the same host (same site for the cookie) puts the bot's
    page in a frame, to trick a click on its invisible cancel button: the browser refuses
    to show it there."""
    from aiohttp import web

    framing = web.Application()
    framing.router.add_get("/", lambda request: web.Response(
        text=f'<iframe id="bot" src="{served.url}/"></iframe>', content_type="text/html"))
    runner = web.AppRunner(framing)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await page.goto(served.url)  # the victim has a session with the bot
        await page.goto(f"http://127.0.0.1:{site.port}/")
        frame = await (await page.wait_for_selector("#bot")).content_frame()
        await frame.wait_for_load_state()
        assert await frame.locator("#animate").count() == 0  # no form in the frame
        assert not frame.url.startswith(served.url)
    finally:
        await runner.cleanup()
