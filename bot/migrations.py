"""The schema, as an ordered list of migrations; `PRAGMA user_version` says how many ran.

Never edit a migration that has shipped: add a new one at the end.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: people and jobs, every status change kept with its time.
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_id TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        username TEXT,
        language TEXT,
        role TEXT NOT NULL DEFAULT 'user',
        banned INTEGER NOT NULL DEFAULT 0,
        default_preset TEXT,
        created_at REAL NOT NULL,
        UNIQUE (platform, platform_id)
    );
    CREATE INDEX users_username ON users (platform, lower(username));
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        platform TEXT NOT NULL,
        chat TEXT NOT NULL,
        status TEXT NOT NULL,
        caption TEXT NOT NULL,
        params TEXT NOT NULL,
        seed INTEGER NOT NULL,
        input_path TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        output_path TEXT,
        error TEXT
    );
    CREATE INDEX jobs_status ON jobs (status, created_at);
    CREATE INDEX jobs_user ON jobs (user_id, created_at);
    CREATE TABLE job_transitions (
        job_id TEXT NOT NULL REFERENCES jobs (id),
        status TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX job_transitions_job ON job_transitions (job_id);
    """,
    # 2: quotas. Costs are in hundredths of a credit; every change of a balance is a row.
    """
    ALTER TABLE users ADD COLUMN daily_credits REAL;
    ALTER TABLE jobs ADD COLUMN cost INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN note TEXT;
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        job_id TEXT REFERENCES jobs (id),
        delta INTEGER NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT,
        note TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX ledger_user ON ledger (user_id, at);
    """,
    # 3: private bots (allow-list) and switches admins flip at run time (pause).
    """
    CREATE TABLE allowlist (
        platform TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'chat')),
        ident TEXT NOT NULL,
        added_by TEXT,
        at REAL NOT NULL,
        PRIMARY KEY (platform, kind, ident)
    );
    CREATE TABLE flags (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
]

LATEST = len(MIGRATIONS)
