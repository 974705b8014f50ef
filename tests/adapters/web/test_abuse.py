"""The page under abuse, through the real aiohttp server and real sockets: idle and
half-sent connections, oversized and malformed forms, password guessing, cookie farming,
submit-and-cancel loops, a proxy in front of a page without a password. Other people's
requests keep working, every refusal says the truth, and the log stays readable."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from adapters.web.access import COOKIE, KEY_FILE, Sessions, load_key
from tests.adapters.web.conftest import close, serve_page
from tests.bot.conftest import make_settings
from tests.fake_executor import FakeExecutor
from tests.images import make_photo

pytestmark = pytest.mark.asyncio(loop_scope="module")
ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse battery staple"


def client(address: str = "127.0.0.1", **options) -> aiohttp.ClientSession:
    """A browser at another loopback address (the whole of 127/8 is this machine), keeping
    cookies of an IP-address host as browsers do."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0), force_close=True),
        cookie_jar=aiohttp.CookieJar(unsafe=True), **options)


def job_form(photo: bytes | None = None, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("photo", photo or make_photo(160, 128), filename="cat.jpg",
                   content_type="image/jpeg")
    form.add_field("prompt", fields.pop("prompt", "a cat turning its head --steps 10"))
    form.add_field("preset", "preview")
    for name, value in fields.items():
        form.add_field(name, value)
    return form


def raw(url: str, data: bytes, source: str = "127.0.0.1") -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect((host, int(port)))
    sock.sendall(data)
    return sock


async def answer(sock: socket.socket, timeout: float = 30, until: bytes | None = None) -> bytes:
    """What the server sends until it closes the connection (or sends `until`)."""
    sock.settimeout(timeout)

    def read() -> bytes:
        chunks = b""
        while chunk := sock.recv(65536):
            chunks += chunk
            if until is not None and until in chunks:
                break
        return chunks

    try:
        return await asyncio.to_thread(read)
    finally:
        sock.close()


@pytest.fixture
def fake_clock(monkeypatch):
    """The rate limits' clock, moved by the test (the `limits` library reads time.time)."""
    now = [1_000_000.0]
    clock = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr("limits.storage.memory.time", clock)
    monkeypatch.setattr("bot.rates.time", clock)
    return now


# Connections

def half_open(url: str, source: str, count: int) -> list[socket.socket]:
    """`count` connections from `source` that start a request and never finish it
    (connected without waiting: a full backlog must not stall the attack)."""
    host, port = url.removeprefix("http://").split(":")
    opened = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((source, 0))
        sock.setblocking(False)
        sock.connect_ex((host, int(port)))
        opened.append(sock)
    return opened


def start_limited_server(data: Path, nofile: int, *settings: str) -> tuple[subprocess.Popen,
                                                                           str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.adapters.web.limited_server", str(data), str(nofile),
         "I2V_WEB_IDLE_TIMEOUT_S=600", *settings], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return server, url


@pytest.mark.slow
async def test_idle_connections_do_not_take_the_page_down(tmp_path):
    """1,100 half-sent connections from one client against a server allowed 160 open
    files (soft and hard): it keeps 32 of them, closes the rest at once, and a visitor's
    page and upload still work. Then 40 clients with 8 each, more than the process has
    files for: running out of files is one summary line, not a line per connection."""
    data = tmp_path / "data"
    server, url = await asyncio.to_thread(start_limited_server, data, 160)
    attackers: list[socket.socket] = []
    try:
        attackers = half_open(url, "127.0.0.2", 1100)
        await asyncio.sleep(0)  # nothing to wait for: the visitor below must get through
        async with client("127.0.1.1") as visitor:
            for _ in range(10):
                async with visitor.get(url, timeout=aiohttp.ClientTimeout(total=30)) as r:
                    assert r.status == 200
            async with visitor.post(f"{url}/api/jobs", data=job_form(),
                                    timeout=aiohttp.ClientTimeout(total=30)) as r:
                assert r.status == 200, await r.text()
        for sock in attackers:
            sock.close()
        attackers = [sock for i in range(40) for sock in half_open(url, f"127.0.2.{i + 1}", 8)]
        async with client("127.0.1.2") as visitor:
            for sock in attackers:
                sock.close()
            attackers = []
            for _ in range(3):  # once the flood is over the page answers again
                async with visitor.get(url, timeout=aiohttp.ClientTimeout(total=60)) as r:
                    assert r.status == 200
    finally:
        for sock in attackers:
            sock.close()
        server.stdin.close()
        assert await asyncio.to_thread(server.wait, 60) == 0
    log = "".join(path.read_text() for path in (data / "logs").glob("*.log"))
    assert "socket.accept() out of system resource" not in log
    assert len(log.splitlines()) < 40, log
    assert "connections over the limit per address" in log
    assert "connections refused for want of too many open files" in log


async def test_a_connection_that_sends_nothing_or_half_a_request_is_closed(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_WEB_IDLE_TIMEOUT_S=0.5,
                             I2V_WEB_BODY_TIMEOUT_S=0.5, I2V_WEB_MAX_CONNECTIONS_PER_ADDRESS=4)
    served = await serve_page(settings, FakeExecutor())
    try:
        silent = raw(served.url, b"")
        half = raw(served.url, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert await answer(silent) == b"" and await answer(half) == b""  # closed, unanswered
        extra = [raw(served.url, b"") for _ in range(4)]
        assert await answer(raw(served.url, b"")) == b""  # a fifth from this address: closed
        async with client("127.0.0.2") as other, other.get(served.url) as response:
            assert response.status == 200  # another address is not affected
        for sock in extra:
            sock.close()

        async with client() as browser:
            async with browser.get(served.url) as response:
                assert response.status == 200
            cookie = browser.cookie_jar.filter_cookies(URL(served.url))[COOKIE].value
        stalled = raw(served.url, (
            "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: i2v_session=" + cookie +
            "\r\nContent-Type: multipart/form-data; boundary=xx\r\nContent-Length: 100000"
            "\r\n\r\n--xx\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nwa"
        ).encode())
        reply = await answer(stalled)
        assert reply.startswith(b"HTTP/1.1 408") and b"The upload stalled for" in reply
    finally:
        await close(served)


# Forms

async def test_every_bad_form_gets_a_true_4xx_at_once(tmp_path, caplog):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0)
    served = await serve_page(settings, FakeExecutor())
    caplog.set_level(logging.INFO)
    try:
        async with client() as browser:
            async with browser.get(served.url) as response:
                assert response.status == 200
            api = f"{served.url}/api/jobs"
            async with browser.post(api, data=b"x" * 100,
                                    headers={"Content-Type": "text/plain"}) as response:
                assert response.status == 415
                assert "multipart/form-data" in (await response.json())["error"]
            many = aiohttp.FormData(default_to_multipart=True)
            for i in range(5000):  # 200,000 are refused by their size alone
                many.add_field(f"f{i}", "x")
            started = time.monotonic()
            async with browser.post(api, data=many) as response:
                assert response.status == 400
                assert (await response.json())["error"] == \
                    "The form has more than 24 fields. Send the page's form as it is."
            assert time.monotonic() - started < 30
            async with browser.post(api, data=job_form(junk="x" * 600_000)) as response:
                assert response.status == 413
                assert (await response.json())["error"] == \
                    "The field “junk” is longer than 16384 bytes."

            async def chunks():
                yield b"--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=" \
                      b"\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                for _ in range(21):
                    yield b"\0" * 2**20
            async with browser.post(api, data=chunks(), headers={
                    "Content-Type": "multipart/form-data; boundary=b"}) as response:
                assert response.status == 400
                assert (await response.json())["error"] == \
                    "This file is larger than the limit of 20 MiB. Send a smaller photo."
        # A declared size over the form's limit is refused before a byte of it is read.
        huge = raw(served.url, b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: "
                   + f"{COOKIE}={browser_cookie(served)}".encode()
                   + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                   b"Content-Length: 629145600\r\n\r\n")
        reply = await answer(huge, until=b"}")
        assert reply.startswith(b"HTTP/1.1 413") and b"The form is larger than" in reply
        # A cookie that is not even text is no cookie: a new session, not a 500.
        bad = raw(served.url, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  b"Cookie: i2v_session=\xff\xfe.x\r\n\r\n")
        assert (await answer(bad)).startswith(b"HTTP/1.1 200")
        # An upload the browser gives up midway: one INFO line, no traceback.
        cut = raw(served.url, b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: "
                  + f"{COOKIE}={browser_cookie(served)}".encode()
                  + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  b"Content-Length: 900000\r\n\r\n--b\r\nContent-Disposition: form-data; "
                  b"name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                  + b"\0" * 100_000)
        cut.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        cut.close()  # a reset, as a closed tab sends

        def ended_early() -> bool:
            return any("ended early" in r.getMessage() for r in caplog.records)
        deadline = time.monotonic() + 30
        while not ended_early():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert await served.app.store.count_jobs() == 0
    finally:
        await close(served)
    assert not any(r.exc_info or r.levelno >= logging.WARNING for r in caplog.records
                   if r.name.startswith(("aiohttp", "adapters.web")))


def browser_cookie(served) -> str:
    session, cookie = Sessions(load_key(served.app.settings.data_dir, None)).new()
    return cookie


async def test_submit_and_cancel_in_a_loop_leaves_no_photo_on_disk(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_DAILY_CREDITS=10)
    served = await serve_page(settings, FakeExecutor())
    await served.app.lifecycle.set_paused(True)
    photo = make_photo(1600, 1200, quality=100)
    try:
        async with client() as browser:
            async with browser.get(served.url) as response:
                assert response.status == 200
            for _ in range(30):
                async with browser.post(f"{served.url}/api/jobs",
                                        data=job_form(photo)) as response:
                    job = (await response.json())["job"]
                async with browser.post(f"{served.url}/api/jobs/{job}/cancel") as response:
                    assert response.status == 200
                assert not list(served.app.outputs.inputs.iterdir())
    finally:
        await close(served)


# People

async def test_password_guesses_are_refused_per_address_and_the_log_gets_a_summary(
        tmp_path, fake_clock, caplog):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_WEB_PASSWORD=PASSWORD)
    served = await serve_page(settings, FakeExecutor())
    caplog.set_level(logging.INFO)
    login = f"{served.url}/login"
    try:
        async with client() as guesser:
            for i in range(5):
                async with guesser.post(login, data={"password": f"guess{i}"}) as response:
                    assert response.status == 401
            fake_clock[0] += 60
            async with guesser.post(login, data={"password": PASSWORD}) as response:
                assert response.status == 429  # refused without being checked
                assert response.headers["Retry-After"] == "840"
                assert "Too many wrong passwords from your address: try again in 840 s." \
                    in await response.text()
            async with client("127.0.0.2") as friend:  # someone else who knows it gets in
                async with friend.post(login, data={"password": PASSWORD},
                                       allow_redirects=False) as response:
                    assert response.status == 303 and COOKIE in response.cookies
                async with friend.post(f"{served.url}/logout",
                                       allow_redirects=False) as response:
                    assert response.status == 303 and response.headers["Location"] == "/login"
                async with friend.get(served.url, allow_redirects=False) as response:
                    assert response.status == 303  # signed out
            fake_clock[0] += 841
            async with guesser.post(login, data={"password": PASSWORD},
                                    allow_redirects=False) as response:
                assert response.status == 303
    finally:
        await close(served)
    web_lines = [r.getMessage() for r in caplog.records if r.name.startswith("adapters.web")]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [line for line in web_lines if "wrong passwords" in line] == [
        next(line for line in web_lines if "wrong passwords" in line)]
    assert "5 wrong passwords" in next(line for line in web_lines if "wrong passwords" in line)


async def test_new_cookies_do_not_make_new_people_without_end(tmp_path, fake_clock):
    """Three new sessions a day per address: 16 cookie-less clients cannot fill the queue
    (the cap is 3 jobs a person), and a visitor from elsewhere still gets in line."""
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_MAX_QUEUE=12,
                             I2V_MAX_JOBS_PER_USER=3, I2V_WEB_NEW_SESSIONS_PER_DAY=3)
    served = await serve_page(settings, FakeExecutor())
    await served.app.lifecycle.set_paused(True)
    accepted = 0
    try:
        for _ in range(16):
            async with client() as farmer:
                async with farmer.get(served.url) as response:
                    if response.status == 429:
                        assert int(response.headers["Retry-After"]) > 80_000
                        assert "Too many new browser sessions" in await response.text()
                        continue
                for _ in range(3):
                    async with farmer.post(f"{served.url}/api/jobs",
                                           data=job_form()) as response:
                        accepted += response.status == 200
        assert accepted == 9
        assert len(await served.app.store.all_users()) == 3  # refused visits add no one
        async with client("127.0.0.2") as visitor:
            async with visitor.get(served.url) as response:
                assert response.status == 200
            async with visitor.post(f"{served.url}/api/jobs", data=job_form()) as response:
                assert response.status == 200, await response.text()
        fake_clock[0] += 86401
        async with client() as tomorrow, tomorrow.get(served.url) as response:
            assert response.status == 200
    finally:
        await close(served)


async def test_submissions_per_address_are_limited_before_the_body_is_read(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_WEB_SUBMITS_PER_MINUTE=2)
    served = await serve_page(settings, FakeExecutor())
    try:
        async with client() as browser:
            async with browser.get(served.url) as response:
                assert response.status == 200
            statuses = []
            for _ in range(3):
                async with browser.post(f"{served.url}/api/jobs", data=job_form()) as r:
                    statuses.append(r.status)
                    answer = await r.json()
            assert statuses == [200, 200, 429]
            assert r.headers["Retry-After"].isdigit()
            assert answer["error"].startswith(
                "Too many videos sent from your address within a minute: wait ")
    finally:
        await close(served)


# Where the page is reachable from

async def test_without_a_password_a_proxy_in_front_gets_nothing(tmp_path, caplog):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0)
    served = await serve_page(settings, FakeExecutor())
    caplog.set_level(logging.INFO)
    try:
        for headers in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"},
                        {"Via": "1.1 nginx"}, {"Host": "bot.example.org"}):
            async with client() as outsider:
                async with outsider.get(served.url, headers=headers) as response:
                    assert response.status == 403
                    assert "I2V_WEB_PASSWORD" in await response.text()
                async with outsider.post(f"{served.url}/api/jobs", data=job_form(),
                                         headers=headers) as response:
                    assert response.status == 403
        nginx = raw(served.url, b"GET / HTTP/1.0\r\nHost: 127.0.0.1:7860\r\n\r\n")
        assert (await answer(nginx)).startswith(b"HTTP/1.0 403")  # proxy_pass's default
        assert await served.app.store.count_jobs() == 0
    finally:
        await close(served)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_behind_a_trusted_proxy_the_client_is_the_forwarded_one(tmp_path, fake_clock):
    settings = make_settings(tmp_path / "data", I2V_WEB_PORT=0, I2V_WEB_PASSWORD=PASSWORD,
                             I2V_WEB_TRUSTED_PROXIES="127.0.0.1",
                             I2V_WEB_NEW_SESSIONS_PER_DAY=1)
    served = await serve_page(settings, FakeExecutor())
    login = f"{served.url}/login"
    try:
        async with client() as proxy:
            for visitor in ("203.0.113.5", "203.0.113.6"):  # two people, one proxy
                async with proxy.post(login, data={"password": PASSWORD}, headers={
                        "X-Forwarded-For": f"198.51.100.1, {visitor}",
                        "X-Forwarded-Proto": "https"}, allow_redirects=False) as response:
                    assert response.status == 303
                    assert response.cookies[COOKIE]["secure"]  # HTTPS at the proxy
            async with proxy.post(login, data={"password": PASSWORD}, headers={
                    "X-Forwarded-For": "203.0.113.5"}, allow_redirects=False) as response:
                assert response.status == 429  # that address had its one session today
        async with client("127.0.0.2") as direct:  # not a trusted proxy: headers ignored
            async with direct.post(login, data={"password": PASSWORD}, headers={
                    "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
                    allow_redirects=False) as response:
                assert response.status == 303 and not response.cookies[COOKIE]["secure"]
            async with direct.post(login, data={"password": PASSWORD}, headers={
                    "X-Forwarded-For": "203.0.113.8"}, allow_redirects=False) as response:
                assert response.status == 429  # counted as 127.0.0.2, whatever it claims
    finally:
        await close(served)


async def test_every_response_says_no_framing_no_sniffing_and_its_own_script_only(served):
    async with client() as browser:
        for path in ("/", "/static/app.js", "/api/events-missing"):
            async with browser.get(served.url + path) as response:
                assert response.headers["X-Frame-Options"] == "DENY"
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.headers["Referrer-Policy"] == "same-origin"
                policy = response.headers["Content-Security-Policy"]
                assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy


def test_a_damaged_session_key_is_replaced_and_its_cookies_refused(tmp_path, caplog):
    (tmp_path / KEY_FILE).write_bytes(b"")  # a crash between creating and writing it
    forged = Sessions(b"").new()[1]  # anyone could sign with an empty key
    caplog.set_level(logging.WARNING)
    sessions = Sessions(load_key(tmp_path, None))
    assert sessions.verify(forged) is None
    assert len((tmp_path / KEY_FILE).read_bytes()) == 32
    assert [r.getMessage() for r in caplog.records] == [
        f"web: {tmp_path / KEY_FILE} was damaged (0 bytes); a new key was made, so every "
        "browser signs in again"]
    assert load_key(tmp_path, None) == sessions.key  # kept from now on
    (tmp_path / KEY_FILE).write_bytes(b"\0" * 32)
    assert load_key(tmp_path, None) != sessions.key  # all zeros is no key either
