"""The web page on a whole core (real SQLite, real ffmpeg, the real aiohttp server), on the
scripted fake GPU or the tiny model, driven by a real headless Chromium through Playwright.

Where Playwright or Chromium is missing the browser tests skip with the reason; with
I2V_REQUIRE_SERVICES=1 (CI) that is a failure instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio

from adapters.app import App
from adapters.web import WebAdapter, WebConfig
from bot.executors.base import Executor
from tests.bot.conftest import make_settings
from tests.fake_executor import FakeExecutor

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# Playwright gives each launch a fresh --user-data-dir of its own.


def chromium_path() -> str | None:
    return os.environ.get("I2V_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")


def browser_missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[test]'"
    if chromium_path() is None:
        return "no Chromium found: apt-get install -y chromium (or set I2V_CHROMIUM)"
    return None


def require_browser() -> None:
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("I2V_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}; I2V_REQUIRE_SERVICES=1 makes a missing browser a failure",
                    pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Wait until `check()` holds: a condition, never a guess of how long things take."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.02)


@dataclass
class Served:
    app: App
    web: WebAdapter

    @property
    def url(self) -> str:
        assert self.web.url is not None
        return self.web.url


async def serve_page(settings, executor: Executor) -> Served:
    """The app and the web adapter started the way `serve` starts them."""
    app = await App.build(settings, executor=executor)
    web = WebAdapter(WebConfig.from_settings(settings), app.core)
    app.events.register(web.platform, web)
    await app.load()
    await web.start()
    await app.start()
    return Served(app, web)


async def close(served: Served) -> None:
    await served.app.stop_work()
    await served.web.stop()
    await served.app.close()


@pytest.fixture
def web_settings(tmp_path):
    return make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_DAILY_CREDITS=10)


@pytest.fixture
def gpu() -> FakeExecutor:
    return FakeExecutor()


@pytest_asyncio.fixture(loop_scope="module")
async def served(web_settings, gpu) -> AsyncIterator[Served]:
    served = await serve_page(web_settings, gpu)
    yield served
    await close(served)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    """One Chromium for a test module; each test opens its own contexts (own cookies)."""
    require_browser()
    from playwright.async_api import async_playwright, expect

    # Waits, not deadlines: on a busy 2-core box a page can take more than the default 5 s.
    expect.set_options(timeout=30_000)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=chromium_path(),
                                                    args=CHROMIUM_FLAGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser, served):
    context = await browser.new_context(locale="en-US", accept_downloads=True)
    page = await context.new_page()
    page.set_default_timeout(30_000)
    yield page
    await context.close()
