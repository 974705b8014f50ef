"""The SQLite store: one file under the data folder, WAL, migrated at open.

One aiosqlite connection serves the whole process. Writes that must read then write
(reserving credits, claiming the next job) run inside `transaction()`, which holds an
asyncio lock and a `BEGIN IMMEDIATE`, so they are atomic against this process and others.
What leaves the store are the core's dataclasses, never rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bot.models import Job, JobStatus, Person, Role, User
from bot.store.migrations import LATEST, MIGRATIONS
from bot.store.rows import column, job_from, params_from, user_from
from engine.spec.params import GenParams

log = logging.getLogger(__name__)

# No 0/o, 1/l/i: ids are read off a phone screen and typed back.
JOB_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
JOB_ID_LENGTH = 6

USER_FIELDS = {"name", "username", "language", "role", "banned", "default_preset",
               "daily_credits", "last_served_at"}
JOB_FIELDS = {"status", "attempts", "started_at", "finished_at", "output_path", "error",
              "note", "params", "seed", "delivered_at"}


class StoreError(Exception):
    """The database cannot be used: the message names the file and what to do."""


def new_job_id() -> str:
    return "".join(secrets.choice(JOB_ID_ALPHABET) for _ in range(JOB_ID_LENGTH))


@dataclass(frozen=True)
class QueuedRow:
    """What the scheduler needs of a queued job, read in one pass at start."""

    job_id: str
    user_id: int
    created_at: float
    cost: int
    params: GenParams
    role: Role
    last_served_at: float | None


@dataclass(frozen=True)
class LedgerEntry:
    user_id: int
    job_id: str | None
    delta: int
    # reserve, refund, grant, reset; purchase, payment_refund, payment_refund_undone
    kind: str
    actor: str | None
    note: str | None
    at: float
    pool: str = "daily"  # daily: counts since the reset hour; bought: for ever
    charge_id: str | None = None


@dataclass(frozen=True)
class Payment:
    """A payment a platform confirmed, and what became of it."""

    charge_id: str  # Telegram's telegram_payment_charge_id
    user_id: int
    platform: str
    currency: str
    amount: int  # in the currency's units: whole Stars
    credits: int  # hundredths, added to the bought pool
    payload: str
    at: float
    provider_charge_id: str | None = None
    refund_state: str | None = None  # None, 'pending' (credits taken, Telegram asked), 'done'
    refund_credits: int | None = None  # taken back at the refund
    refunded_by: str | None = None
    refunded_at: float | None = None


@dataclass(frozen=True)
class Takings:
    """Payments since a moment: taken (paid) and given back (refunded)."""

    taken: int
    payments: int
    refunded: int
    refunds: int


@dataclass(frozen=True)
class Refusal:
    """One moderation refusal, with who it was, for `/admin moderation`."""

    id: int
    user_id: int
    user_key: str  # platform:id
    username: str | None
    kind: str  # photo or video
    label: str  # the label that refused
    scores: dict[str, float]
    photo_sha256: str | None
    job_id: str | None  # a video's job; a refused photo never became one
    kept_path: Path | None
    lifted: bool
    at: float


@dataclass(frozen=True)
class TopUser:
    platform: str
    platform_id: str
    username: str | None
    jobs: int


async def migrate(db: aiosqlite.Connection, target: int = LATEST) -> int:
    """Apply the migrations the file lacks, each in its own transaction."""
    (version,) = await (await db.execute("PRAGMA user_version")).fetchone()  # type: ignore[misc]
    if version > LATEST:
        raise StoreError(f"The database's schema ({version}) is newer than this i2v-bot "
                         f"({LATEST}): update i2v-bot, or use another I2V_DATA_DIR.")
    for number in range(version + 1, target + 1):
        log.info("applying database migration %d", number)
        await db.executescript(
            f"BEGIN IMMEDIATE; {MIGRATIONS[number - 1]}; PRAGMA user_version = {number}; COMMIT;")
    return max(version, target)


class Store:
    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self._lock = _ReentrantLock()

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (and migrate) the file; a StoreError says in one line what is wrong."""
        try:
            return await cls._open(path)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                raise StoreError(f"The database {path} is locked by another program (another "
                                 "i2vbot using the same I2V_DATA_DIR?).") from exc
            raise StoreError(f"Cannot use the database {path}: {exc}; check I2V_DATA_DIR "
                             "and its permissions.") from exc
        except OSError as exc:
            raise StoreError(f"Cannot create the database folder {path.parent}: "
                             f"{exc.strerror}; check I2V_DATA_DIR.") from exc

    @classmethod
    async def _open(cls, path: Path) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)  # we manage transactions
        db.row_factory = aiosqlite.Row
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process
            # loses nothing; a power cut may lose the last moments' commits (SQLite's advice
            # for WAL). It takes milliseconds off every photo's acknowledgement.
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA busy_timeout = 5000")
            await migrate(db)
        except BaseException:
            await db.close()
            raise
        return cls(db, path)

    async def close(self) -> None:
        await self.db.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self._lock as outermost:
            if not outermost:
                yield
                return
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _one(self, sql: str, args: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self.db.execute(sql, tuple(args)) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self.db.execute(sql, tuple(args)) as cur:
            return list(await cur.fetchall())

    async def _scalar(self, sql: str, args: Iterable[Any] = ()) -> Any:
        row = await self._one(sql, args)
        return None if row is None else row[0]

    async def _write(self, sql: str, args: Iterable[Any] = ()) -> None:
        async with self.transaction():
            await self.db.execute(sql, tuple(args))

    # The file

    async def schema_version(self) -> int:
        return await self._scalar("PRAGMA user_version")

    async def journal_mode(self) -> str:
        return await self._scalar("PRAGMA journal_mode")

    async def tables(self) -> set[str]:
        rows = await self._all("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows}

    # Users

    async def upsert_user(self, person: Person, role: Role | None = None) -> User:
        """Create the user on first contact; refresh name, username and language after."""
        async with self.transaction():
            await self.db.execute(
                """INSERT INTO users (platform, platform_id, name, username, language,
                                      role, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (platform, platform_id) DO UPDATE SET
                     name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END,
                     username = coalesce(excluded.username, username),
                     language = coalesce(excluded.language, language)""",
                (person.platform, person.platform_id, person.name, person.username,
                 person.language, (role or Role.USER).value, time.time()))
            if role is not None:
                await self.db.execute(
                    "UPDATE users SET role = ? WHERE platform = ? AND platform_id = ?",
                    (role.value, person.platform, person.platform_id))
        user = await self.find_user(person.platform, person.platform_id)
        assert user is not None
        return user

    async def get_user(self, user_id: int) -> User | None:
        row = await self._one("SELECT * FROM users WHERE id = ?", (user_id,))
        return user_from(row) if row else None

    async def find_user(self, platform: str, platform_id: str) -> User | None:
        row = await self._one("SELECT * FROM users WHERE platform = ? AND platform_id = ?",
                              (platform, platform_id))
        return user_from(row) if row else None

    async def find_user_by_username(self, platform: str, username: str) -> User | None:
        row = await self._one(
            "SELECT * FROM users WHERE platform = ? AND lower(username) = lower(?)",
            (platform, username.lstrip("@")))
        return user_from(row) if row else None

    async def all_users(self) -> list[User]:
        return [user_from(r) for r in await self._all("SELECT * FROM users ORDER BY id")]

    async def update_user(self, user_id: int, **fields: Any) -> User:
        unknown = set(fields) - USER_FIELDS
        assert not unknown, unknown
        if fields:
            sets = ", ".join(f"{name} = ?" for name in fields)
            await self._write(f"UPDATE users SET {sets} WHERE id = ?",
                              (*map(column, fields.values()), user_id))
        user = await self.get_user(user_id)
        assert user is not None
        return user

    # Jobs

    async def insert_job(self, job: Job) -> None:
        async with self.transaction():
            await self.db.execute(
                """INSERT INTO jobs (id, user_id, platform, chat, status, caption, params,
                                     seed, input_path, attempts, created_at, cost, extends,
                                     extension)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (job.id, job.user_id, job.platform, column(job.chat), job.status.value,
                 job.caption, column(job.params), job.seed, str(job.input_path),
                 job.attempts, job.created_at, job.cost, job.extends, job.extension))
            await self._transition(job.id, job.status, job.created_at)

    async def job_id_taken(self, job_id: str) -> bool:
        return await self._scalar("SELECT 1 FROM jobs WHERE id = ?", (job_id,)) is not None

    async def get_job(self, job_id: str) -> Job | None:
        row = await self._one("SELECT * FROM jobs WHERE id = ?", (job_id.lower(),))
        return job_from(row) if row else None

    async def update_job(self, job_id: str, **fields: Any) -> Job:
        """Change a job; a new status is also recorded with its time."""
        unknown = set(fields) - JOB_FIELDS
        assert not unknown, unknown
        sets = ", ".join(f"{name} = ?" for name in fields)
        async with self.transaction():
            await self.db.execute(f"UPDATE jobs SET {sets} WHERE id = ?",
                                  (*map(column, fields.values()), job_id))
            if "status" in fields:
                await self._transition(job_id, JobStatus(fields["status"]), time.time())
        job = await self.get_job(job_id)
        assert job is not None
        return job

    async def start_jobs(self, job_ids: list[str], now: float) -> list[tuple[Job, User]]:
        """Mark jobs running (one more attempt) and their owners served at `now`, in one
        transaction; each job with its owner as they were before."""
        marks = ", ".join("?" for _ in job_ids)
        async with self.transaction():
            owners = {row["id"]: user_from(row) for row in await self._all(
                f"SELECT * FROM users WHERE id IN (SELECT user_id FROM jobs WHERE id IN "
                f"({marks}))", job_ids)}
            rows = await self._all(
                f"""UPDATE jobs SET status = 'running', attempts = attempts + 1,
                      started_at = ?, error = NULL WHERE id IN ({marks}) RETURNING *""",
                (now, *job_ids))
            await self.db.executemany(
                "INSERT INTO job_transitions (job_id, status, at) VALUES (?, 'running', ?)",
                [(job_id, now) for job_id in job_ids])
            await self.db.execute(f"UPDATE users SET last_served_at = ? WHERE id IN "
                                  f"({', '.join('?' for _ in owners)})", (now, *owners))
        jobs = {row["id"]: job_from(row) for row in rows}
        return [(jobs[i], owners[jobs[i].user_id]) for i in job_ids]

    async def _transition(self, job_id: str, status: JobStatus, at: float) -> None:
        await self.db.execute("INSERT INTO job_transitions (job_id, status, at) VALUES (?, ?, ?)",
                              (job_id, status.value, at))

    async def transitions(self, job_id: str) -> list[tuple[JobStatus, float]]:
        rows = await self._all(
            "SELECT status, at FROM job_transitions WHERE job_id = ? ORDER BY rowid", (job_id,))
        return [(JobStatus(r["status"]), r["at"]) for r in rows]

    async def jobs_with_status(self, *statuses: JobStatus) -> list[Job]:
        marks = ", ".join("?" for _ in statuses)
        rows = await self._all(
            f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY created_at, rowid",
            [s.value for s in statuses])
        return [job_from(r) for r in rows]

    async def queued_rows(self) -> list[QueuedRow]:
        """Every queued job with its owner's role and last-served time, oldest first."""
        rows = await self._all(
            """SELECT jobs.id, jobs.user_id, jobs.created_at, jobs.cost, jobs.params,
                      users.role, users.last_served_at
               FROM jobs JOIN users ON users.id = jobs.user_id
               WHERE jobs.status = 'queued' ORDER BY jobs.created_at, jobs.rowid""")
        return [QueuedRow(r[0], r[1], r[2], r[3], params_from(r[4]), Role(r[5]), r[6])
                for r in rows]

    async def user_jobs(self, user_id: int, limit: int = 10) -> list[Job]:
        rows = await self._all(
            "SELECT * FROM jobs WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (user_id, limit))
        return [job_from(r) for r in rows]

    async def count_active(self, user_id: int | None = None) -> int:
        sql = "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
        if user_id is None:
            return await self._scalar(sql)
        return await self._scalar(sql + " AND user_id = ?", (user_id,))

    async def count_jobs(self) -> int:
        return await self._scalar("SELECT count(*) FROM jobs")

    async def recent_run_seconds_per_cost(self, limit: int = 20) -> float | None:
        """How long recent jobs took per hundredth of a credit, for queue estimates."""
        row = await self._one(
            """SELECT sum(finished_at - started_at), sum(cost) FROM (
                 SELECT finished_at, started_at, cost FROM jobs
                 WHERE status IN ('done', 'delivered') AND started_at IS NOT NULL
                   AND cost > 0
                 ORDER BY finished_at DESC LIMIT ?)""", (limit,))
        if row is None or not row[1]:
            return None
        return row[0] / row[1]

    async def ended_jobs_holding_credits(self) -> list[Job]:
        """Failed or cancelled jobs whose reservation was never given back (a crash between
        the two writes of an older version)."""
        rows = await self._all(
            """SELECT jobs.* FROM jobs JOIN ledger ON ledger.job_id = jobs.id
               WHERE jobs.status IN ('failed', 'cancelled')
               GROUP BY jobs.id HAVING sum(ledger.delta) < 0""")
        return [job_from(r) for r in rows]

    # Ledger

    async def add_ledger(self, user_id: int, delta: int, kind: str, *, job_id: str | None = None,
                         actor: str | None = None, note: str | None = None,
                         at: float | None = None, pool: str = "daily",
                         charge_id: str | None = None) -> None:
        await self._write(
            """INSERT INTO ledger (user_id, job_id, delta, kind, actor, note, at, pool,
                                   charge_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (user_id, job_id, delta, kind, actor, note, time.time() if at is None else at,
             pool, charge_id))

    async def job_ledger_sum(self, job_id: str) -> int:
        return await self._scalar(
            "SELECT coalesce(sum(delta), 0) FROM ledger WHERE job_id = ?", (job_id,))

    async def job_ledger_by_pool(self, job_id: str) -> dict[str, int]:
        """What a job's rows add up to in each pool it took credits from."""
        rows = await self._all(
            "SELECT pool, sum(delta) FROM ledger WHERE job_id = ? GROUP BY pool", (job_id,))
        return {r[0]: r[1] for r in rows}

    async def bought_total(self, user_id: int) -> int:
        """The user's bought credits left: every row of the bought pool, whenever it was."""
        return await self._scalar(
            "SELECT coalesce(sum(delta), 0) FROM ledger WHERE user_id = ? AND pool = 'bought'",
            (user_id,))

    async def reserved_at(self, job_id: str) -> float | None:
        return await self._scalar(
            "SELECT min(at) FROM ledger WHERE job_id = ? AND kind = 'reserve'", (job_id,))

    async def ledger_totals(self, user_id: int, since: float) -> tuple[int, int]:
        """(granted, everything else) summed over the user's daily pool since `since`."""
        row = await self._one(
            """SELECT coalesce(sum(CASE WHEN kind = 'grant' THEN delta END), 0),
                      coalesce(sum(CASE WHEN kind != 'grant' THEN delta END), 0)
               FROM ledger WHERE user_id = ? AND at >= ? AND pool = 'daily'""",
            (user_id, since))
        assert row is not None
        return row[0], row[1]

    async def held_by_active_jobs(self, user_id: int, since: float) -> int:
        """Daily credits that the user's waiting or running jobs reserved since `since`."""
        return -(await self._scalar(
            """SELECT coalesce(sum(ledger.delta), 0) FROM ledger
               JOIN jobs ON jobs.id = ledger.job_id WHERE ledger.user_id = ? AND ledger.at >= ?
                 AND ledger.pool = 'daily' AND jobs.status IN ('queued', 'running')""",
            (user_id, since)))

    async def ledger(self, user_id: int, since: float = 0.0) -> list[LedgerEntry]:
        rows = await self._all(
            "SELECT * FROM ledger WHERE user_id = ? AND at >= ? ORDER BY id", (user_id, since))
        return [LedgerEntry(r["user_id"], r["job_id"], r["delta"], r["kind"], r["actor"],
                            r["note"], r["at"], r["pool"], r["charge_id"]) for r in rows]

    # Payments

    async def record_payment(self, payment: Payment) -> bool:
        """Store a payment and add its credits to the bought pool, in one transaction, once:
        False (and nothing written) when this charge id is already stored."""
        async with self.transaction():
            async with self.db.execute(
                    """INSERT INTO payments (charge_id, user_id, platform, currency, amount,
                                             credits, payload, at, provider_charge_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (charge_id) DO NOTHING""",
                    (payment.charge_id, payment.user_id, payment.platform, payment.currency,
                     payment.amount, payment.credits, payment.payload, payment.at,
                     payment.provider_charge_id)) as cur:
                if cur.rowcount == 0:
                    return False
            await self.add_ledger(payment.user_id, payment.credits, "purchase",
                                  pool="bought", charge_id=payment.charge_id, at=payment.at,
                                  note=f"{payment.amount} {payment.currency}")
        return True

    async def get_payment(self, charge_id: str) -> Payment | None:
        row = await self._one("SELECT * FROM payments WHERE charge_id = ?", (charge_id,))
        if row is None:
            return None
        return Payment(**{name: row[name] for name in row.keys()})

    async def user_payments(self, user_id: int, limit: int = 5) -> list[Payment]:
        rows = await self._all(
            "SELECT * FROM payments WHERE user_id = ? ORDER BY at DESC LIMIT ?",
            (user_id, limit))
        return [Payment(**{name: row[name] for name in row.keys()}) for row in rows]

    async def begin_refund(self, payment: Payment, take: int, actor: str) -> None:
        """Take a refunded payment's credits back before the platform is asked."""
        async with self.transaction():
            await self.db.execute(
                """UPDATE payments SET refund_state = 'pending', refund_credits = ?,
                       refunded_by = ? WHERE charge_id = ?""", (take, actor, payment.charge_id))
            if take:
                await self.add_ledger(payment.user_id, -take, "payment_refund", actor=actor,
                                      pool="bought", charge_id=payment.charge_id)

    async def undo_refund(self, payment: Payment, reason: str) -> None:
        """The platform refused the refund: the credits taken for it come back."""
        async with self.transaction():
            await self.db.execute(
                """UPDATE payments SET refund_state = NULL, refund_credits = NULL,
                       refunded_by = NULL WHERE charge_id = ?""", (payment.charge_id,))
            if payment.refund_credits:
                await self.add_ledger(payment.user_id, payment.refund_credits,
                                      "payment_refund_undone", pool="bought",
                                      charge_id=payment.charge_id, note=reason[:200])

    async def finish_refund(self, charge_id: str, at: float) -> None:
        await self._write(
            "UPDATE payments SET refund_state = 'done', refunded_at = ? WHERE charge_id = ?",
            (at, charge_id))

    async def takings(self, since: float) -> Takings:
        row = await self._one(
            """SELECT coalesce(sum(CASE WHEN at >= ? THEN amount END), 0),
                      count(CASE WHEN at >= ? THEN 1 END),
                      coalesce(sum(CASE WHEN refunded_at >= ? THEN amount END), 0),
                      count(CASE WHEN refunded_at >= ? THEN 1 END)
               FROM payments WHERE at >= ? OR refunded_at >= ?""", (since,) * 6)
        assert row is not None
        return Takings(row[0], row[1], row[2], row[3])

    # Reports

    async def jobs_by_status(self, since: float) -> dict[JobStatus, int]:
        rows = await self._all(
            "SELECT status, count(*) FROM jobs WHERE created_at >= ? GROUP BY status", (since,))
        return {JobStatus(r[0]): r[1] for r in rows}

    async def gpu_seconds(self, since: float) -> float:
        return await self._scalar(
            """SELECT coalesce(sum(finished_at - started_at), 0) FROM jobs
               WHERE started_at >= ? AND finished_at IS NOT NULL
                 AND status IN ('done', 'delivered', 'failed', 'cancelled')""", (since,))

    async def top_users(self, since: float, limit: int = 5) -> list[TopUser]:
        rows = await self._all(
            """SELECT users.platform, users.platform_id, users.username, count(*) AS n
               FROM jobs JOIN users ON users.id = jobs.user_id WHERE jobs.created_at >= ?
               GROUP BY users.id ORDER BY n DESC LIMIT ?""", (since, limit))
        return [TopUser(r[0], r[1], r[2], r[3]) for r in rows]

    # Moderation

    async def add_refusal(self, user_id: int, kind: str, label: str, scores: dict[str, float],
                          *, since: float, photo_sha256: str | None = None,
                          job_id: str | None = None, kept_path: Path | None = None,
                          at: float | None = None) -> int:
        """Record a refusal; returns the user's refusals since `since` (none lifted), this
        one included, counted in the same transaction."""
        async with self.transaction():
            await self.db.execute(
                """INSERT INTO moderation (user_id, job_id, kind, label, scores, photo_sha256,
                                           kept_path, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (user_id, job_id, kind, label, json.dumps(scores), photo_sha256,
                 None if kept_path is None else str(kept_path),
                 time.time() if at is None else at))
            return await self.user_refusals(user_id, since)

    async def refusals(self, limit: int = 10, user_id: int | None = None) -> list[Refusal]:
        """The most recent refusals first, of everyone or of one user."""
        where, args = ("WHERE moderation.user_id = ?", (user_id, limit)) if user_id is not None \
            else ("", (limit,))
        rows = await self._all(
            f"""SELECT moderation.*, users.platform, users.platform_id, users.username
                FROM moderation JOIN users ON users.id = moderation.user_id {where}
                ORDER BY moderation.at DESC, moderation.id DESC LIMIT ?""", args)
        return [Refusal(r["id"], r["user_id"], f"{r['platform']}:{r['platform_id']}",
                        r["username"], r["kind"], r["label"], json.loads(r["scores"]),
                        r["photo_sha256"], r["job_id"],
                        Path(r["kept_path"]) if r["kept_path"] else None, bool(r["lifted"]),
                        r["at"]) for r in rows]

    async def refusals_by_kind(self, since: float) -> dict[str, int]:
        rows = await self._all(
            "SELECT kind, count(*) FROM moderation WHERE at >= ? GROUP BY kind", (since,))
        return {r[0]: r[1] for r in rows}

    async def user_refusals(self, user_id: int, since: float) -> int:
        """A user's refusals since `since` that no admin lifted."""
        return await self._scalar(
            "SELECT count(*) FROM moderation WHERE user_id = ? AND at >= ? AND NOT lifted",
            (user_id, since))

    async def users_refused(self, since: float, at_least: int) -> int:
        """How many users but admins have at least `at_least` refusals since `since`, none
        lifted: the people paused."""
        return await self._scalar(
            """SELECT count(*) FROM (SELECT moderation.user_id FROM moderation
                 JOIN users ON users.id = moderation.user_id
                 WHERE moderation.at >= ? AND NOT moderation.lifted AND users.role != 'admin'
                 GROUP BY moderation.user_id HAVING count(*) >= ?)""", (since, at_least))

    async def lift_refusals(self, user_id: int, since: float) -> int:
        """Mark a user's refusals since `since` lifted; how many were."""
        async with self.transaction():
            cursor = await self.db.execute(
                "UPDATE moderation SET lifted = 1 WHERE user_id = ? AND at >= ? AND NOT lifted",
                (user_id, since))
            return cursor.rowcount

    # Allow-list and flags

    async def set_allowed(self, platform: str, kind: str, ident: str, allowed: bool,
                          actor: str | None = None) -> None:
        if allowed:
            await self._write("INSERT OR IGNORE INTO allowlist VALUES (?, ?, ?, ?, ?)",
                              (platform, kind, ident, actor, time.time()))
        else:
            await self._write(
                "DELETE FROM allowlist WHERE platform = ? AND kind = ? AND ident = ?",
                (platform, kind, ident))

    async def is_allowed(self, platform: str, user_ident: str, chat_ident: str | None) -> bool:
        return bool(await self._scalar(
            """SELECT 1 FROM allowlist WHERE platform = ? AND
                 ((kind = 'user' AND ident = ?) OR (kind = 'chat' AND ident = ?))""",
            (platform, user_ident, chat_ident or "")))

    async def get_flag(self, name: str) -> str | None:
        return await self._scalar("SELECT value FROM flags WHERE name = ?", (name,))

    async def set_flag(self, name: str, value: str) -> None:
        await self._write(
            "INSERT INTO flags VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = ?",
            (name, value, value))


class _ReentrantLock:
    """An asyncio lock that a task may take again; `as` tells whether it is the outermost."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: object = None
        self._depth = 0

    async def __aenter__(self) -> bool:
        task = asyncio.current_task()
        if self._owner is task:
            self._depth += 1
            return False
        await self._lock.acquire()
        self._owner, self._depth = task, 1
        return True

    async def __aexit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()
