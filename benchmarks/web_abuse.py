"""Another visitor's `GET /` while the web page is attacked, before and after the page's
limits, side by side in one run: the page on the fake GPU in a process of its own (the
common 1,024 open-files limit, soft and hard, so that neither version can raise it), a
fresh one for each attack, each attack from its own loopback address, and a probe from
another one asking for the page ten times a second on a new connection each time (3 s at
most per answer).

    python -m benchmarks.web_abuse --before /tmp/before [--seconds 8] [--out FILE.md]

`--before` is a checkout of the code to compare with (e.g. `git worktree add /tmp/before
eda1808`); the code of this checkout is "after". Nothing here is asserted: the numbers are
a measurement, printed as a Markdown table with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from benchmarks.machine import cpu_name

HERE = Path(__file__).resolve().parents[1]
PROBE_TIMEOUT_S = 3.0
SERVER = """
import asyncio, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
from adapters.app import App
from adapters.web import WebAdapter, WebConfig
from bot.logs import setup_logging
from bot.settings import Settings
from tests.fake_executor import FakeExecutor

async def main():
    settings = Settings(_env_file=None, I2V_DATA_DIR=sys.argv[1], I2V_MODEL="tiny",
                        I2V_WEB_PORT=0)
    setup_logging(settings.data_dir, "INFO", [], console=True)
    app = await App.build(settings, executor=FakeExecutor())
    web = WebAdapter(WebConfig.from_settings(settings), app.core)
    app.events.register(web.platform, web)
    await app.load()
    await web.start()
    await app.start()
    print(web.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await app.stop_work()
    await web.stop()
    await app.close()

asyncio.run(main())
"""
Attack = Callable[[str, asyncio.Event], Awaitable[None]]


def connect(url: str, source: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.bind((source, 0))
    sock.setblocking(False)
    sock.connect_ex((host, int(port)))
    return sock


async def idle(url: str, stop: asyncio.Event) -> None:
    """1,100 connections that start a request and never finish it (opened 50 at a time,
    so that the listen backlog never drops them)."""
    sockets = []
    for _ in range(22):
        sockets += [connect(url, "127.0.0.2") for _ in range(50)]
        await asyncio.sleep(0.05)
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await stop.wait()
    for sock in sockets:
        sock.close()


async def _cookie(url: str, source: str) -> str:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session, session.get(url) as r:
        return r.cookies["i2v_session"].value


async def _post_forever(url: str, source: str, body: bytes, headers: str,
                        stop: asyncio.Event, chunks: int = 1) -> None:
    host, port = url.removeprefix("http://").split(":")
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, int(port),
                                                           local_addr=(source, 0))
        except OSError:
            await asyncio.sleep(0.1)
            continue
        try:
            writer.write(headers.encode())
            for _ in range(chunks):
                if stop.is_set():
                    break
                writer.write(body)
                await writer.drain()
            await asyncio.wait_for(reader.read(1000), 30)
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()


async def many_parts(url: str, stop: asyncio.Event) -> None:
    """Four clients at once, each sending form after form of 200,000 one-byte parts."""
    cookie = await _cookie(url, "127.0.0.3")
    body = b"".join(b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i
                    for i in range(200_000)) + b"--b--\r\n"
    headers = (f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: i2v_session={cookie}"
               f"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
               f"Content-Length: {len(body)}\r\n\r\n")
    await asyncio.gather(*(_post_forever(url, "127.0.0.3", body, headers, stop)
                           for _ in range(4)))


async def huge_part(url: str, stop: asyncio.Event) -> None:
    """A photo followed by a 600 MiB part of an unknown name, in chunks (no size said)."""
    cookie = await _cookie(url, "127.0.0.4")
    chunk = b"x" * 2**20
    body = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    head = b'--b\r\nContent-Disposition: form-data; name="junk"\r\n\r\n'
    headers = (f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: i2v_session={cookie}"
               f"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
               f"Transfer-Encoding: chunked\r\n\r\n{len(head):x}\r\n{head.decode()}\r\n")
    await _post_forever(url, "127.0.0.4", body, headers, stop, chunks=600)


async def new_sessions(url: str, stop: asyncio.Event) -> None:
    """Four clients asking for the page without a cookie as fast as they can (each visit a
    new person before)."""
    async def one() -> None:
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.5", 0), limit=1)
        async with aiohttp.ClientSession(connector=connector,
                                         cookie_jar=aiohttp.DummyCookieJar()) as session:
            while not stop.is_set():
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as response:
                        await response.read()

    await asyncio.gather(*(one() for _ in range(4)))


ATTACKS: dict[str, Attack | None] = {
    "none": None, "1,100 idle connections": idle, "4 x 200,000-part forms": many_parts,
    "a 600 MiB unknown part": huge_part, "cookie-less visits, 4 at once": new_sessions}


async def probe(url: str, seconds: float, cookie: str) -> tuple[list[float], int]:
    """GET / ten times a second, each on a new connection from 127.0.1.1, as a visitor
    (the same one: a browser keeps its cookie)."""
    times, failed = [], 0
    end = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
    while time.monotonic() < end:
        connector = aiohttp.TCPConnector(local_addr=("127.0.1.1", 0), force_close=True)
        started = time.perf_counter()
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                             cookies={"i2v_session": cookie}) as session:
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError):
            ok = False
        took = time.perf_counter() - started
        if ok:
            times.append(took)
        else:
            failed += 1
        await asyncio.sleep(max(0.0, 0.1 - took))
    return times, failed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(tree: Path, seconds: float) -> dict[str, dict[str, object]]:
    """Each attack against a fresh server of `tree` (an attack's after-effects, such as an
    event loop still busy with a huge form, must not count against the next one)."""
    return {name: await _one(tree, attack, seconds) for name, attack in ATTACKS.items()}


async def _one(tree: Path, attack: Attack | None, seconds: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        terminal = Path(folder) / "terminal.txt"  # what the operator's terminal would show
        server = subprocess.Popen([sys.executable, "-c", SERVER, folder], cwd=tree,
                                  env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=terminal.open("w"), text=True)
        try:
            url = (await asyncio.to_thread(server.stdout.readline)).strip()
            logs = Path(folder) / "logs"
            visitor = await _cookie(url, "127.0.1.1")
            lines_before = sum(len(p.read_bytes().splitlines()) for p in logs.glob("*"))
            shown_before = len(terminal.read_bytes().splitlines())
            stop = asyncio.Event()
            task = asyncio.create_task(attack(url, stop)) if attack else None
            await asyncio.sleep(1.0 if attack else 0)  # the attack under way
            # The visitor has an event loop of its own: the attackers' clients must not
            # slow its side of the measurement.
            times, failed = await asyncio.to_thread(asyncio.run, probe(url, seconds, visitor))
            stop.set()
            if task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 60)
            lines = sum(len(p.read_bytes().splitlines()) for p in logs.glob("*"))
            shown = len(terminal.read_bytes().splitlines())
        finally:
            server.stdin.close()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return {"p50": percentile(times, 0.5) if times else None,
            "p99": percentile(times, 0.99) if times else None,
            "answered": len(times), "failed": failed, "log lines": lines - lines_before,
            "terminal lines": shown - shown_before}


def ms(value: object) -> str:
    return "-" if not isinstance(value, float) else f"{value * 1000:.0f} ms"


def report(before: dict[str, dict[str, object]], after: dict[str, dict[str, object]],
           seconds: float) -> str:
    lines = [f"Measured on {cpu_name()}, {_cores()} cores (shared with other work), Python "
             f"{sys.version.split()[0]}, aiohttp {aiohttp.__version__}; "
             f"{seconds:g} s of probing per attack.", "",
             "| attack | before p50 | before p99 | before answered / failed | before log / "
             "terminal lines | after p50 | after p99 | after answered / failed | after log / "
             "terminal lines |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ATTACKS:
        b, a = before[name], after[name]
        lines.append(f"| {name} | {ms(b['p50'])} | {ms(b['p99'])} | {b['answered']} / "
                     f"{b['failed']} | {b['log lines']} / {b['terminal lines']} | "
                     f"{ms(a['p50'])} | {ms(a['p99'])} | {a['answered']} / {a['failed']} | "
                     f"{a['log lines']} / {a['terminal lines']} |")
    return "\n".join(lines) + "\n"


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    before = asyncio.run(measure(args.before.resolve(), args.seconds))
    after = asyncio.run(measure(HERE, args.seconds))
    table = report(before, after, args.seconds)
    print(table)
    if args.out:
        args.out.write_text("# The web page under attack: another visitor's GET /\n\n"
                            + (__doc__ or "").split("\n\n")[0] + "\n\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
