"""Faults as people meet them: a process killed during an upload, Ctrl-C in the terminal,
SIGTERM at work, tokens refused or unreachable, a failing command sync, a broken data
folder. The bot is run as a real process (`python -m adapters.cli`) where it matters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.cli import main
from adapters.discord_bot import DiscordAdapter, DiscordConfig
from adapters.serve import serve
from bot.models import ChatRef, JobRequest, Person
from tests.adapters.discord_bot.conftest import animate_data, interaction
from tests.adapters.discord_bot.fake_discord import FakeDiscord
from tests.adapters.discord_bot.helpers import check_video, followup, send
from tests.adapters.telegram_bot.conftest import Person as TelegramPerson
from tests.adapters.telegram_bot.fake_bot_api import TOKEN, FakeBotApi
from tests.bot.conftest import FAST, make_settings, serving
from tests.fake_executor import FakeExecutor
from tests.images import make_photo

ROOT = Path(__file__).resolve().parents[1]


def bot_env(data: Path, model: Path | str, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("I2V_", "TELEGRAM_", "DISCORD_"))}
    return {**env, "I2V_DATA_DIR": str(data), "I2V_MODEL": str(model),
            "I2V_MODERATION_MODEL": "tiny",  # the tiny classifier, never the Hub's
            "PYTHONPATH": str(ROOT), **values}


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "adapters.cli", *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def rows(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


async def exit_code(proc: subprocess.Popen[str], timeout: float) -> int:
    """Wait for a process without blocking the loop (the fake servers live on it)."""
    return await asyncio.to_thread(proc.wait, timeout)


async def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


# A finished video is never lost

@pytest.mark.slow
async def test_a_video_whose_upload_was_cut_off_arrives_once_after_the_restart(
        tmp_path, tiny_model_dir):
    api = FakeBotApi()
    await api.start()
    data = tmp_path / "data"
    env = bot_env(data, tiny_model_dir, TELEGRAM_BOT_TOKEN=TOKEN,
                  TELEGRAM_API_BASE_URL=api.base_url, TELEGRAM_API_FILE_URL=api.file_url)
    api.hold("sendVideo")
    first = spawn(["serve"], env, tmp_path)
    try:
        ann = TelegramPerson(api, 10)
        await asyncio.to_thread(wait_for_log, data, "serving telegram")  # its model is ready
        await ann.photo(f"a cat turning its head {FAST}")
        await api.wait_for(lambda: api.held, timeout=240)  # the upload has begun...
        os.killpg(first.pid, signal.SIGKILL)  # ...and the process dies under it
        await exit_code(first, 30)
        await asyncio.sleep(0.2)  # one turn of the loop: the fake sees the connection gone
        api.release("sendVideo")
        [(job_id, status, cost)] = rows(data / "i2vbot.sqlite3",
                                        "SELECT id, status, cost FROM jobs")
        assert status == "done"  # made, not delivered: still charged, kept for delivery
        assert not ann.videos()

        second = spawn(["serve"], env, tmp_path)
        try:
            await ann.wait_video(timeout=240)
            await wait_until(lambda: rows(data / "i2vbot.sqlite3",
                                          "SELECT status FROM jobs")[0][0] == "delivered",
                             30, "the delivery to be recorded")
        finally:
            second.send_signal(signal.SIGTERM)
            assert await exit_code(second, 60) == 0
        assert len(ann.videos()) == 1  # exactly once
        assert rows(data / "i2vbot.sqlite3", "SELECT sum(delta) FROM ledger WHERE job_id = ?",
                    job_id) == [(-cost,)]
    finally:
        for proc in (first,):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        await api.close()


@pytest.mark.slow
async def test_sigterm_at_work_stops_the_bot_and_keeps_every_job(tmp_path, tiny_model_dir):
    """Many jobs waiting after a restart; SIGTERM while one runs: the process ends by itself,
    the running job goes back to the queue without using its retry, nothing is lost."""
    api = FakeBotApi()
    await api.start()
    data = tmp_path / "data"
    settings = make_settings(data, I2V_MAX_JOBS_PER_USER=5)
    from adapters.app import App

    app = await App.build(settings, executor=FakeExecutor())
    await app.load()
    await app.lifecycle.set_paused(True)
    for i in range(40):
        await app.core.submit(JobRequest(
            person=Person("telegram", str(100 + i // 5)), chat=ChatRef("telegram", "1"),
            image=make_photo(160, 128), caption=f"waves {FAST} --steps 60"))
    await app.lifecycle.set_paused(False)
    await app.close()
    env = bot_env(data, tiny_model_dir, TELEGRAM_BOT_TOKEN=TOKEN,
                  TELEGRAM_API_BASE_URL=api.base_url, TELEGRAM_API_FILE_URL=api.file_url)
    proc = spawn(["serve"], env, tmp_path)
    try:
        db = data / "i2vbot.sqlite3"
        await wait_until(lambda: rows(db, "SELECT count(*) FROM jobs WHERE status = "
                                          "'running'")[0][0] == 1, 240, "a job to start")
        proc.send_signal(signal.SIGTERM)
        assert await exit_code(proc, 60) == 0
        _, err = proc.communicate()
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        await api.close()
    statuses = dict(rows(db, "SELECT status, count(*) FROM jobs GROUP BY status"))
    assert statuses.get("running", 0) == 0
    assert statuses.get("queued", 0) + statuses.get("done", 0) + \
        statuses.get("delivered", 0) == 40
    assert rows(db, "SELECT max(attempts) FROM jobs WHERE status = 'queued'") == [(0,)]


# A paid credit is never lost, nor given twice

def logged(data: Path) -> str:
    return "".join(path.read_text() for path in (data / "logs").glob("*.log"))


@pytest.mark.slow
async def test_a_payment_cut_off_by_kill_9_is_credited_once_after_the_restarts(
        tmp_path, tiny_model_dir):
    """SIGKILL at two moments: while the bot holds the payment but cannot store it (the
    database is busy), and after it stored it but before it confirmed the update to
    Telegram. Each time Telegram delivers the payment again; it is credited exactly once."""
    api = FakeBotApi()
    await api.start()
    data = tmp_path / "data"
    db = data / "i2vbot.sqlite3"
    env = bot_env(data, tiny_model_dir, TELEGRAM_BOT_TOKEN=TOKEN,
                  TELEGRAM_API_BASE_URL=api.base_url, TELEGRAM_API_FILE_URL=api.file_url,
                  I2V_CREDIT_PACKS="10:50")
    ann = TelegramPerson(api, 10)
    procs: list[subprocess.Popen[str]] = []
    try:
        procs.append(spawn(["serve"], env, tmp_path))
        await api.wait_for(lambda: api.polls > 0, timeout=240)  # started: it polls
        holder = sqlite3.connect(db, timeout=0, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        update = await api.push(ann.payment("credits:1000:50", 50, "stxKILL"))
        api.hold_confirmation(update["update_id"])
        await api.wait_for(lambda: api.deliveries.get(update["update_id"]), timeout=60)
        await wait_until(lambda: api.confirming or "could not be stored" in logged(data), 60,
                         "the bot to confirm the update or find the database busy")
        assert api.confirming == []  # what it could not store, it has not confirmed
        os.killpg(procs[0].pid, signal.SIGKILL)
        await exit_code(procs[0], 30)
        holder.execute("ROLLBACK")
        holder.close()
        assert rows(db, "SELECT count(*) FROM payments") == [(0,)]

        procs.append(spawn(["serve"], env, tmp_path))  # Telegram delivers it again...
        await api.wait_for(lambda: api.confirming, timeout=240)  # ...it is confirmed...
        assert rows(db, "SELECT count(*), sum(delta) FROM ledger WHERE kind = 'purchase'") \
            == [(1, 1000)]  # ...only once stored
        os.killpg(procs[1].pid, signal.SIGKILL)  # and the bot dies before Telegram hears it
        await exit_code(procs[1], 30)
        await wait_until(api.confirmers_gone, 30, "the fake to see the poller gone")
        api.release_confirmation()

        receipts = len([t for t in ann.replies() if "10 credits added" in t])
        procs.append(spawn(["serve"], env, tmp_path))  # delivered a third time
        await api.wait_for(lambda: len([t for t in ann.replies()
                                        if "10 credits added" in t]) > receipts, timeout=240)
        procs[2].send_signal(signal.SIGTERM)
        assert await exit_code(procs[2], 60) == 0
        assert api.deliveries[update["update_id"]] == 3
        assert rows(db, "SELECT count(*), sum(credits), sum(amount) FROM payments") == \
            [(1, 1000, 50)]
        assert rows(db, "SELECT kind, sum(delta) FROM ledger WHERE pool = 'bought' "
                        "GROUP BY kind") == [("purchase", 1000)]
        assert all("Bought credits: 10;" in t for t in ann.replies() if "credits added" in t)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        await api.close()


# The terminal

def paused_data(data: Path) -> None:
    """A data folder whose queue an admin paused: a job waits in line for as long as needed."""
    from bot.store.migrations import MIGRATIONS

    data.mkdir(parents=True)
    with sqlite3.connect(data / "i2vbot.sqlite3") as db:
        for number, script in enumerate(MIGRATIONS, 1):
            db.executescript(script)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("INSERT INTO flags VALUES ('queue_paused', '1')")


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float = 240) -> list[str]:
    """Read the process's stderr until a line contains `text` (tqdm redraws with \\r)."""
    deadline = time.monotonic() + timeout
    seen, line = [], ""
    while time.monotonic() < deadline:
        char = proc.stderr.read(1)
        if not char:
            raise AssertionError(f"the process ended before saying {text!r}: {''.join(seen)}")
        line += char
        if char in "\r\n":
            seen.append(line)
            if text in line:
                return seen
            line = ""
    raise AssertionError(f"timed out waiting for {text!r}")


def wait_for_log(data: Path, text: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in path.read_text() for path in (data / "logs").glob("*.log")):
        assert time.monotonic() < deadline, f"timed out waiting for {text!r} in the log"
        time.sleep(0.05)


def slow_ffmpeg(tmp_path: Path) -> tuple[Path, Path]:
    """An encoder that starts and never finishes (a huge video on a slow disk): it says it
    started by creating a file, then takes no more frames."""
    started = tmp_path / "encoding-started"
    exe = tmp_path / "ffmpeg"
    # Its output is not the bot's: it must not hold the pipe the test reads to the end.
    exe.write_text(f"#!/bin/sh\ntouch {started}\nexec sleep 600 >/dev/null 2>&1\n")
    exe.chmod(0o755)
    return exe, started


def interrupted_within(proc: subprocess.Popen[str], seconds: float) -> str:
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    code = proc.wait(30)
    took = time.monotonic() - sent
    assert code == 130 and took < seconds, (code, took)
    return proc.stderr.read()


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["waiting", "denoising", "encoding"])  # loading: below
def test_ctrl_c_at_any_stage_ends_animate_within_2_s_cancelled_and_refunded(
        tmp_path, tiny_model_dir, stage):
    data = tmp_path / "data"
    env = bot_env(data, tiny_model_dir)
    if stage == "waiting":
        paused_data(data)
    if stage == "encoding":
        exe, started = slow_ffmpeg(tmp_path)
        env["IMAGEIO_FFMPEG_EXE"] = str(exe)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo(192, 128))
    steps = "--steps 100" if stage == "denoising" else "--steps 10"
    proc = spawn(["animate", str(photo), f"a boat sailing --size 128x128 --frames 8 {steps}"],
                 env, tmp_path)
    try:
        wait_for_line(proc, "Loading the model")  # queued; the model loads from here
        if stage == "waiting":
            wait_for_log(data, "engine ready")
        elif stage == "denoising":
            wait_for_line(proc, "denoising:")
        elif stage == "encoding":
            deadline = time.monotonic() + 240
            while not started.exists():
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        err = interrupted_within(proc, 2.0)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the encoder stand-in
    [(job_id, status)] = rows(data / "i2vbot.sqlite3", "SELECT id, status FROM jobs")
    assert status == "cancelled"
    assert err.strip().splitlines()[-1] == \
        f"Interrupted: job {job_id} cancelled, its credits returned."
    assert "Traceback" not in err
    assert rows(data / "i2vbot.sqlite3", "SELECT sum(delta) FROM ledger") == [(0,)]
    assert not list((data / "inputs").iterdir())


@pytest.mark.slow
def test_a_second_ctrl_c_ends_animate_even_when_the_first_is_stuck(tmp_path,
                                                                  tiny_model_dir):
    data = tmp_path / "data"
    paused_data(data)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo(192, 128))
    proc = spawn(["animate", str(photo), f"a boat sailing {FAST}"],
                 bot_env(data, tiny_model_dir), tmp_path)
    holder = None
    try:
        wait_for_log(data, "engine ready")
        holder = sqlite3.connect(data / "i2vbot.sqlite3", timeout=0)  # another program
        holder.execute("BEGIN EXCLUSIVE")  # the first Ctrl-C cannot record the cancel
        proc.send_signal(signal.SIGINT)
        wait_for_log(data, "interrupted: cancelling job")
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        assert proc.wait(30) == -signal.SIGINT and time.monotonic() - sent < 2.0
    finally:
        if holder is not None:
            holder.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_ctrl_c_cancels_the_terminals_own_job_and_the_next_run_gets_its_own_video(tmp_path,
                                                                                 tiny_model_dir):
    data = tmp_path / "data"
    env = bot_env(data, tiny_model_dir)
    first, second = tmp_path / "first.jpg", tmp_path / "second.png"
    first.write_bytes(make_photo(192, 128))
    second.write_bytes(make_photo(128, 192, "PNG"))
    paused_data(data)  # an admin paused the queue
    proc = spawn(["animate", str(first), f"a boat sailing {FAST}"], env, tmp_path)
    wait_for_line(proc, "Loading the model")
    err = interrupted_within(proc, 2.0)
    [(job_id, status)] = rows(data / "i2vbot.sqlite3", "SELECT id, status FROM jobs")
    assert status == "cancelled"
    assert err.strip().splitlines()[-1] == \
        f"Interrupted: job {job_id} cancelled, its credits returned."
    assert "Traceback" not in err
    assert rows(data / "i2vbot.sqlite3", "SELECT sum(delta) FROM ledger") == [(0,)]

    with sqlite3.connect(data / "i2vbot.sqlite3") as db:
        db.execute("UPDATE flags SET value = '0' WHERE name = 'queue_paused'")
    out = tmp_path / "out.mp4"
    done = subprocess.run([sys.executable, "-m", "adapters.cli", "animate", str(second),
                           f"a kite rising {FAST}", "-o", str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    params = done.stdout.split("Parameters: ")[1].strip()
    assert '"caption": "a kite rising' in Path(params).read_text()
    assert "earlier job" not in done.stderr  # the cancelled one never ran
    assert rows(data / "i2vbot.sqlite3", "SELECT status, caption FROM jobs ORDER BY "
                "created_at") == [("cancelled", f"a boat sailing {FAST}"),
                                  ("delivered", f"a kite rising {FAST}")]


def test_a_bad_caption_is_refused_before_any_model_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("I2V_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("I2V_MODEL", str(tmp_path / "no-such-model"))  # would fail to load
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    assert main(["animate", str(photo), "waves --wiggle 3"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "Unknown option --wiggle. Options: --preset, --model, --seed, " \
        "--frames, --fps, --steps, --guidance, --neg, --size, --res, --loop, --smooth, --fast, " \
        "--extend, --focus, --eta, --recipe."


# Starting: one clear line and a non-zero exit

@pytest.mark.slow
def test_serve_with_a_model_that_cannot_load_stops_in_one_line_having_taken_no_photo(
        tmp_path):
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "adapters.cli", "serve"],
                          env=bot_env(data, tmp_path / "no-such-model", I2V_WEB_PORT="0"),
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("The web page is at ") and len(lines) == 2, lines
    assert lines[1].startswith("Could not load the model i2vgen-xl")
    assert "Traceback" in "".join(p.read_text() for p in (data / "logs").glob("*.log"))
    assert rows(data / "i2vbot.sqlite3", "SELECT count(*) FROM jobs") == [(0,)]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_within_2_s_while_its_model_loads_and_says_starting_till_then(
        tmp_path, tiny_model_dir, sig):
    import urllib.request

    data = tmp_path / "data"
    proc = spawn(["serve"], bot_env(data, tiny_model_dir, I2V_WEB_PORT="0"), tmp_path)
    try:
        line = wait_for_line(proc, "The web page is at ")[-1]
        url = line.split("The web page is at ")[1].split()[0]
        with urllib.request.urlopen(url, timeout=30) as page:  # the model is still loading
            assert "The bot is starting: its model is loading." in page.read().decode()
        proc.send_signal(sig)
        sent = time.monotonic()
        assert proc.wait(30) == 0 and time.monotonic() - sent < 2.0
        err = proc.stderr.read()
        assert "is serving" not in err and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)



def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once this returns


@pytest.mark.parametrize("platform", ["telegram", "discord"])
def test_an_unreachable_platform_is_one_line_and_a_non_zero_exit(tmp_path, platform):
    port = closed_port()
    values = ({"TELEGRAM_BOT_TOKEN": "123:abc",
               "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot"}
              if platform == "telegram" else
              {"DISCORD_BOT_TOKEN": "abc", "DISCORD_PROXY": f"http://127.0.0.1:{port}"})
    done = subprocess.run([sys.executable, "-m", "adapters.cli", "serve"],
                          env=bot_env(tmp_path / "data", "tiny", **values), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode != 0 and 1 <= len(lines) <= 3, lines
    assert "could not be reached" in lines[-1] and "Traceback" not in done.stderr
    assert ("TELEGRAM_API_BASE_URL" if platform == "telegram" else "DISCORD_PROXY") \
        in lines[-1]


async def test_a_refused_discord_token_is_one_line(tmp_path, capfd):
    fake = FakeDiscord()
    await fake.start()
    settings = make_settings(tmp_path / "data", DISCORD_BOT_TOKEN="revoked-token")
    try:
        code = await serve(settings, asyncio.Event(),
                           lambda s, app: [DiscordAdapter(DiscordConfig.from_settings(s),
                                                          app.core, app.admin,
                                                          fake.connector())])
    finally:
        await fake.close()
    assert code == 1
    err = capfd.readouterr().err.strip().splitlines()
    assert err == ["Discord refused the bot token: check DISCORD_BOT_TOKEN (Developer Portal "
                   "→ your application → Bot → Reset Token)."]


async def test_a_failing_command_sync_is_retried_while_the_bot_serves(tmp_path, tiny_engine,
                                                                       caplog):
    fake = FakeDiscord()
    await fake.start()
    caplog.set_level(logging.INFO)
    fake.fail_next("PUT", "/commands$", status=500, body={"message": "oops", "code": 0},
                   via=False)
    settings = make_settings(tmp_path / "data", DISCORD_BOT_TOKEN="fake-token")
    stop = asyncio.Event()

    def adapters(settings, app):
        adapter = DiscordAdapter(DiscordConfig.from_settings(settings), app.core, app.admin,
                                 fake.connector())
        adapter.sync_retry_delays = (0.2,)
        return [adapter]

    server = asyncio.create_task(serve(settings, stop, adapters))
    try:
        await fake.wait_for(lambda r: r.method == "PUT" and "[refused]" in r.path)
        await serving(caplog)
        image = fake.add_attachment("cat.jpg", make_photo(160, 128), "image/jpeg")
        payload = interaction(2, animate_data(image, f"a cat {FAST}"))
        assert (await send(fake, payload)).json["type"] == 5
        check_video(await followup(fake, payload, files=True, timeout=120), tmp_path)
        await fake.wait_for(lambda r: r.method == "PUT" and "[refused]" not in r.path)
        assert "global" in fake.commands
    finally:
        stop.set()
        assert await asyncio.wait_for(server, 60) == 0
        await fake.close()


def test_a_locked_database_and_a_broken_data_folder_are_one_line(tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("I2V_DATA_DIR", str(blocker / "data"))
    assert main(["doctor"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"Cannot write to the data folder {blocker / 'data'}: Not a directory; check "
        "I2V_DATA_DIR."]

    data = tmp_path / "data"
    monkeypatch.setenv("I2V_DATA_DIR", str(data))
    assert main(["doctor"]) == 0
    capsys.readouterr()
    holder = sqlite3.connect(data / "i2vbot.sqlite3", timeout=0)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert main(["doctor"]) == 1
    finally:
        holder.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"The database {data / 'i2vbot.sqlite3'} is locked by another program "
                       "(another i2vbot using the same I2V_DATA_DIR?).")
