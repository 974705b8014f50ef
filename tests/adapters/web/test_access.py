"""Who is who on the web page, over plain HTTP: a signed cookie per browser, the password
where the page is open to the network, and requests from other sites refused."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from adapters.web.access import COOKIE, Sessions, load_key
from tests.adapters.web.conftest import close, serve_page
from tests.bot.conftest import make_settings
from tests.images import make_photo

pytestmark = pytest.mark.asyncio(loop_scope="module")
PASSWORD = "correct horse battery staple"


def browser_session(**options) -> aiohttp.ClientSession:
    """A client that keeps cookies of an IP-address host, as browsers do."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), **options)


def job_form(prompt: str = "a cat turning its head --frames 8 --steps 10",
             photo: bytes | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("photo", photo or make_photo(160, 128), filename="cat.jpg",
                   content_type="image/jpeg")
    form.add_field("prompt", prompt)
    form.add_field("preset", "preview")
    return form


async def test_a_new_browser_gets_a_signed_session_and_a_forged_one_is_not_believed(served):
    async with browser_session() as browser:
        async with browser.get(served.url) as response:
            assert response.status == 200
            cookie = response.cookies[COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        session, _, signature = cookie.value.partition(".")
        async with browser.post(f"{served.url}/api/jobs", data=job_form()) as response:
            assert response.status == 200, await response.text()

    forged = f"admin.{signature}"  # someone else's id with this browser's signature
    async with browser_session(cookies={COOKIE: forged}) as intruder:
        async with intruder.post(f"{served.url}/api/jobs", data=job_form()) as response:
            assert response.status == 401
            assert (await response.json())["error"] == "Your session has ended: reload the page."
        async with intruder.get(served.url) as response:  # the page starts a new person
            assert response.cookies[COOKIE].value.split(".")[0] not in (session, "admin")


async def test_requests_from_other_sites_are_refused(served):
    async with browser_session() as browser:
        async with browser.get(served.url) as response:
            assert response.status == 200
        async with browser.post(f"{served.url}/api/jobs", data=job_form(),
                                headers={"Origin": "http://evil.example"}) as response:
            assert response.status == 403
        # A page of another site whose name now points at 127.0.0.1 (DNS rebinding).
        async with browser.get(served.url, headers={"Host": "evil.example"}) as response:
            assert response.status == 403
    assert await served.app.store.count_jobs() == 0


async def test_with_a_password_only_those_who_know_it_get_in(tmp_path, gpu, caplog):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_WEB_HOST="127.0.0.1",
                             I2V_WEB_PASSWORD=PASSWORD)
    served = await serve_page(settings, gpu)
    caplog.set_level(logging.DEBUG)
    try:
        async with browser_session() as browser:
            async with browser.get(served.url, allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/login"
                assert COOKIE not in response.cookies
            async with browser.post(f"{served.url}/login",
                                    data={"password": "wrong"}) as response:
                assert response.status == 401 and "Wrong password." in await response.text()
            async with browser.post(f"{served.url}/api/jobs", data=job_form()) as response:
                assert response.status == 401
            async with browser.post(f"{served.url}/login", data={"password": PASSWORD},
                                    allow_redirects=False) as response:
                assert response.status == 303 and COOKIE in response.cookies
            async with browser.post(f"{served.url}/api/jobs", data=job_form()) as response:
                assert response.status == 200
    finally:
        await close(served)
    assert caplog.records and all(PASSWORD not in r.getMessage() for r in caplog.records)

    # A new password signs everyone out: the cookie's signature depends on it.
    again = await serve_page(make_settings(tmp_path / "data", I2V_WEB_PORT=0,
                                           I2V_WEB_PASSWORD="another one"), gpu)
    try:
        async with aiohttp.ClientSession(cookie_jar=browser.cookie_jar) as same_browser:
            async with same_browser.get(again.url, allow_redirects=False) as response:
                assert response.status == 303
    finally:
        await close(again)


async def test_a_photo_over_the_limit_is_refused_with_the_limit(served, monkeypatch):
    monkeypatch.setattr("adapters.web.form.UPLOAD_LIMIT", 100_000)
    async with browser_session() as browser:
        async with browser.get(served.url) as response:
            assert response.status == 200
        big = make_photo(1200, 1000, quality=100)
        async with browser.post(f"{served.url}/api/jobs", data=job_form(photo=big)) as response:
            assert response.status == 400
            error = (await response.json())["error"]
    assert error.startswith("This file is ") and "MiB; the limit is 0.095 MiB." in error


async def test_a_web_id_in_i2v_admins_is_an_admin(tmp_path, gpu):
    data = tmp_path / "data"
    session, cookie = Sessions(load_key(data, None)).new()  # the browser's id, known ahead
    served = await serve_page(make_settings(data, I2V_WEB_PORT=0,
                                            I2V_ADMINS=f"web:{session}"), gpu)
    try:
        async with browser_session(cookies={COOKIE: cookie}) as browser:
            async with browser.get(served.url) as response:
                page = await response.text()
        assert f"This browser is web:{session} (admin)." in page
        assert "You have no credit limit (admin)." in page
    finally:
        await close(served)

