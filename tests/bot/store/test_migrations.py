"""The schema migrates from an empty file and from every older version, keeping data."""

import json
import sqlite3
import time

import pytest

from bot.models import JobStatus
from bot.store import Store, StoreError
from bot.store.migrations import LATEST, MIGRATIONS

# A job's chat as the Telegram adapter stored it before schema 4.
TELEGRAM_CHAT = json.dumps({"chat_id": 555, "chat_type": "private", "status_message_id": 7,
                            "reply_to_message_id": 6, "max_bytes": 50 * 2**20, "lang": "en"})
DISCORD_CHAT = json.dumps({"application_id": "9", "interaction_token": "tok",
                           "token_created_at": 100.0, "channel_id": "70", "guild_id": "80",
                           "user_id": "1001", "max_bytes": 10 * 2**20, "lang": "zh-CN"})


def make_old_database(path, version):
    """A database as an older i2v-bot left it: migrations 1..version, with a user and a job."""
    db = sqlite3.connect(path)
    for number in range(1, version + 1):
        db.executescript(MIGRATIONS[number - 1])
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO users (platform, platform_id, name, created_at) "
               "VALUES ('telegram', '42', 'Ann', ?)", (time.time(),))
    chat = TELEGRAM_CHAT if version < 4 else json.dumps(  # schema 4 stores the core's ChatRef
        {"platform": "telegram", "chat_id": "555", "status_message": "7",
         "upload_limit": 50 * 2**20, "language": "en"})
    db.execute(
        "INSERT INTO jobs (id, user_id, platform, chat, status, caption, params, seed, "
        "input_path, created_at) VALUES ('abc234', 1, 'telegram', ?, 'queued', 'waves', "
        "'{\"prompt\": \"waves\", \"seed\": 5}', 5, 'x.img', ?)", (chat, time.time()))
    db.commit()
    db.close()


async def test_empty_file_gets_the_latest_schema(tmp_path):
    store = await Store.open(tmp_path / "new.sqlite3")
    try:
        assert await store.schema_version() == LATEST
        assert await store.journal_mode() == "wal"
        assert {"users", "jobs", "job_transitions", "ledger", "allowlist", "flags",
                "moderation"} <= await store.tables()
    finally:
        await store.close()


@pytest.mark.parametrize("version", range(1, LATEST))
async def test_older_schema_is_migrated_and_keeps_its_data(tmp_path, version):
    path = tmp_path / f"v{version}.sqlite3"
    make_old_database(path, version)
    store = await Store.open(path)
    try:
        assert await store.schema_version() == LATEST
        user = await store.find_user("telegram", "42")
        assert user is not None and user.name == "Ann" and user.daily_credits is None
        job = await store.get_job("abc234")
        assert job is not None and job.params.prompt == "waves" and job.cost == 0
        assert job.chat.platform == "telegram" and job.chat.chat_id == "555"
        assert job.chat.status_message == "7" and job.chat.upload_limit == 50 * 2**20
        assert job.status is JobStatus.QUEUED
        await store.add_ledger(user.id, -100, "reserve", job_id=job.id)
        assert await store.job_ledger_sum(job.id) == -100
    finally:
        await store.close()


async def test_schema_4_turns_old_chats_into_chat_refs_and_done_into_delivered(tmp_path):
    path = tmp_path / "v3.sqlite3"
    make_old_database(path, 3)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO users (platform, platform_id, name, created_at) "
                   "VALUES ('discord', '1001', 'Bo', 0)")
        db.execute(
            "INSERT INTO jobs (id, user_id, platform, chat, status, caption, params, seed, "
            "input_path, created_at, started_at, finished_at, note) VALUES ('def567', 2, "
            "'discord', ?, 'done', 'x', '{\"prompt\": \"x\", \"seed\": 1}', 1, 'x', 0, 5, 9, "
            "'restarted')", (DISCORD_CHAT,))
    store = await Store.open(path)
    try:
        job = await store.get_job("def567")
        assert job.status is JobStatus.DELIVERED and job.delivered_at == 9
        assert job.chat.chat_id == "70" and not job.chat.private
        assert job.chat.language == "zh-CN" and job.chat.upload_limit == 10 * 2**20
        assert json.loads(job.chat.handle) == {"app": "9", "token": "tok", "at": 100.0,
                                               "user": "1001"}
        assert job.note.key == "restarted"
        assert (await store.find_user("discord", "1001")).last_served_at == 5
    finally:
        await store.close()


async def test_schema_7_keeps_moderation_refusals_that_count_per_day_until_lifted(tmp_path):
    path = tmp_path / "v5.sqlite3"
    make_old_database(path, 6)  # an i2v-bot from before moderation, with a user and a job
    store = await Store.open(path)
    try:
        user = await store.find_user("telegram", "42")
        count = await store.add_refusal(user.id, "photo", "nsfw", {"nsfw": 0.98, "normal": 0.02},
                                        photo_sha256="ab" * 32, since=0, at=100)
        assert count == 1
        assert await store.add_refusal(user.id, "video", "nsfw", {"nsfw": 0.7}, job_id="abc234",
                                       since=0, at=200) == 2
        assert await store.add_refusal(user.id, "photo", "nsfw", {"nsfw": 0.9}, since=150,
                                       at=300) == 2  # since 150: the first is yesterday's
        newest, *_, oldest = await store.refusals()
        assert (newest.at, newest.kind, oldest.photo_sha256) == (300, "photo", "ab" * 32)
        assert oldest.scores == {"nsfw": 0.98, "normal": 0.02} and oldest.user_key == \
            "telegram:42"
        assert [r.job_id for r in await store.refusals(user_id=user.id)] == [None, "abc234",
                                                                             None]
        assert await store.refusals_by_kind(150) == {"video": 1, "photo": 1}
        assert await store.users_refused(150, 2) == 1
        assert await store.lift_refusals(user.id, 150) == 2
        assert await store.user_refusals(user.id, 150) == 0 and \
            await store.users_refused(150, 1) == 0
        with pytest.raises(sqlite3.IntegrityError):  # a check is a photo's or a video's
            await store.add_refusal(user.id, "prompt", "nsfw", {}, since=0)
    finally:
        await store.close()


async def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {LATEST + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this i2v-bot"):
        await Store.open(path)


async def test_schema_6_keeps_old_rows_daily_and_stores_a_payment_once(tmp_path):
    from bot.store import Payment

    path = tmp_path / "v5.sqlite3"
    make_old_database(path, 5)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO ledger (user_id, job_id, delta, kind, at) "
                   "VALUES (1, 'abc234', -100, 'reserve', ?)", (time.time(),))
    store = await Store.open(path)
    try:
        assert "payments" in await store.tables()
        [entry] = await store.ledger(1)
        assert entry.pool == "daily" and entry.charge_id is None
        payment = Payment(charge_id="stx1", user_id=1, platform="telegram", currency="XTR",
                          amount=50, credits=1000, payload="credits:1000:50", at=time.time())
        assert await store.record_payment(payment) is True
        assert await store.record_payment(payment) is False  # the same charge: nothing more
        assert await store.bought_total(1) == 1000
        # The UNIQUE key holds even for a writer that skips the payments table's check.
        with pytest.raises(sqlite3.IntegrityError):
            await store.add_ledger(1, 1000, "purchase", pool="bought", charge_id="stx1")
        with pytest.raises(sqlite3.IntegrityError):  # a pool is daily or bought
            await store.add_ledger(1, 5, "grant", pool="weekly")
    finally:
        await store.close()


async def test_parameters_stored_before_or_after_this_version_still_load(tmp_path):
    """A row written before focus, eta, recipes and translations existed loads with their
    defaults; one written by a newer bot with a field this one does not know loads too."""
    path = tmp_path / "rows.sqlite3"
    make_old_database(path, LATEST)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO jobs (id, user_id, platform, chat, status, caption, params, seed, "
               "input_path, created_at) VALUES ('new234', 1, 'telegram', '{\"platform\": "
               "\"telegram\", \"chat_id\": \"1\"}', 'queued', 'x', ?, 5, 'x.img', ?)",
               (json.dumps({"prompt": "一只猫", "seed": 5, "eta": 0.3, "focus": 1.5,
                            "translated_prompt": "a cat", "from_the_future": True}),
                time.time()))
    db.commit()
    db.close()
    store = await Store.open(path)
    try:
        old = await store.get_job("abc234")
        assert old is not None and old.params.prompt == "waves"
        assert (old.params.eta, old.params.focus, old.params.recipe,
                old.params.translated_prompt) == (None, None, None, None)
        new = await store.get_job("new234")
        assert new is not None and (new.params.eta, new.params.focus) == (0.3, 1.5)
        assert new.params.model_prompt == "a cat"
    finally:
        await store.close()
