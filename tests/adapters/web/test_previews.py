"""Live previews on the web page, in a real headless Chromium: the job's card shows the
newest preview beside its cancel button while it renders, then the video in its place; a
page opened mid-job shows it at once; only the job's own browser can fetch it."""

from __future__ import annotations

import pytest

from tests.adapters.web.test_page import card, fill, submit

try:
    from playwright.async_api import expect
except ImportError:  # the browser fixture says why these tests skip
    expect = None

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOADED = "img => img.complete && img.naturalWidth > 0"


async def test_the_preview_updates_as_the_job_renders_then_the_video_takes_its_place(
        page, served, gpu, browser):
    gpu.previews = True
    gpu.script("sunset", pause_at=(3, 6))
    fetched: list[str] = []
    page.on("response", lambda r: fetched.append(r.url) if "/preview.jpg" in r.url
            and r.status == 200 and r.headers.get("content-type") == "image/jpeg" else None)
    await page.goto(served.url)
    await fill(page, "a sunset over the sea")
    job_id = await submit(page)
    job = card(page, job_id)
    forming = job.locator("img.forming")
    for step in (3, 6):
        await expect(job.locator(".status")).to_contain_text(f"step {step}/10")
        await expect(forming).to_have_attribute("src", f"/api/jobs/{job_id}/preview.jpg"
                                                       f"?step={step}")
        await page.wait_for_function(LOADED, arg=await forming.element_handle())
        await expect(forming).to_be_visible()
        await expect(job.locator("button.cancel")).to_be_visible()  # beside the preview
        if step == 6:  # a page opened now shows the preview at once
            other = await page.context.new_page()
            await other.goto(served.url)
            await expect(card(other, job_id).locator("img.forming")).to_be_visible()
            # Another browser (another person) cannot fetch it.
            stranger = await browser.new_context()
            response = await stranger.request.get(
                f"{served.url}/api/jobs/{job_id}/preview.jpg?step=6")
            assert response.status in (401, 404)
            await stranger.close()
            await other.close()
        gpu.release(job_id)
    await expect(job.locator("video")).to_be_visible()
    await expect(forming).to_be_hidden()  # the video takes its place
    assert {url.split("?step=")[1] for url in fetched} >= {"3", "6"}  # two previews, loaded
    response = await page.request.get(f"{served.url}/api/jobs/{job_id}/preview.jpg")
    assert response.status == 404  # gone with the job
