"""The schema migrates from an empty file and from every older version, keeping data."""

import sqlite3
import time

import pytest

from bot.migrations import LATEST, MIGRATIONS
from bot.store import Store


def make_old_database(path, version):
    """A database as an older i2v-bot left it: migrations 1..version, with a user and a job."""
    db = sqlite3.connect(path)
    for number in range(1, version + 1):
        db.executescript(MIGRATIONS[number - 1])
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO users (platform, platform_id, name, created_at) "
               "VALUES ('telegram', '42', 'Ann', ?)", (time.time(),))
    db.execute(
        "INSERT INTO jobs (id, user_id, platform, chat, status, caption, params, seed, "
        "input_path, created_at) VALUES ('abc234', 1, 'telegram', '{}', 'queued', 'waves', "
        "'{\"prompt\": \"waves\", \"seed\": 5}', 5, 'x.img', ?)", (time.time(),))
    db.commit()
    db.close()


async def test_empty_file_gets_the_latest_schema(tmp_path):
    store = await Store.open(tmp_path / "new.sqlite3")
    try:
        assert await store.scalar("PRAGMA user_version") == LATEST
        assert await store.scalar("PRAGMA journal_mode") == "wal"
        tables = {r[0] for r in await store.rows("SELECT name FROM sqlite_master")}
        assert {"users", "jobs", "job_transitions", "ledger", "allowlist", "flags"} <= tables
    finally:
        await store.close()


@pytest.mark.parametrize("version", range(1, LATEST))
async def test_older_schema_is_migrated_and_keeps_its_data(tmp_path, version):
    path = tmp_path / f"v{version}.sqlite3"
    make_old_database(path, version)
    store = await Store.open(path)
    try:
        assert await store.scalar("PRAGMA user_version") == LATEST
        user = await store.find_user("telegram", "42")
        assert user is not None and user.name == "Ann" and user.daily_credits is None
        job = await store.get_job("abc234")
        assert job is not None and job.params.prompt == "waves" and job.cost == 0
        await store.add_ledger(user.id, -100, "reserve", job_id=job.id)
        assert await store.job_ledger_sum(job.id) == -100
    finally:
        await store.close()


async def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {LATEST + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer than this i2v-bot"):
        await Store.open(path)
