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
    # 4: the core redesign. Fair order reads when a person was last served from their row;
    # delivery is a state of its own ('done' = made, 'delivered' = the platform confirmed);
    # a job's chat is the core's ChatRef rather than each adapter's own keys; notes are
    # catalogue keys.
    """
    ALTER TABLE users ADD COLUMN last_served_at REAL;
    UPDATE users SET last_served_at =
        (SELECT max(started_at) FROM jobs WHERE jobs.user_id = users.id);
    ALTER TABLE jobs ADD COLUMN delivered_at REAL;
    UPDATE jobs SET status = 'delivered', delivered_at = finished_at WHERE status = 'done';
    UPDATE jobs SET chat = json_object(
        'platform', platform,
        'chat_id', coalesce(CAST(json_extract(chat, '$.chat_id') AS TEXT),
                            json_extract(chat, '$.channel_id'), ''),
        'thread_id', NULL,
        'reply_to', CAST(json_extract(chat, '$.reply_to_message_id') AS TEXT),
        'status_message', CAST(json_extract(chat, '$.status_message_id') AS TEXT),
        'upload_limit', json_extract(chat, '$.max_bytes'),
        'language', json_extract(chat, '$.lang'),
        'private', CASE WHEN json_extract(chat, '$.chat_type') IN ('group', 'supergroup')
                          OR json_extract(chat, '$.guild_id') IS NOT NULL
                        THEN json('false') ELSE json('true') END,
        'handle', CASE WHEN json_extract(chat, '$.interaction_token') IS NOT NULL
                       THEN '' || json_object(
                           'app', json_extract(chat, '$.application_id'),
                           'token', json_extract(chat, '$.interaction_token'),
                           'at', json_extract(chat, '$.token_created_at'),
                           'user', json_extract(chat, '$.user_id'))
                  END)
    WHERE json_extract(chat, '$.platform') IS NULL;
    UPDATE jobs SET note = CASE WHEN note = 'restarted' THEN json_object('key', 'restarted')
                           END
    WHERE note IS NOT NULL;
    CREATE INDEX ledger_job ON ledger (job_id);
    """,
    # 5: extensions: a job may continue another job's video.
    """
    ALTER TABLE jobs ADD COLUMN extends TEXT REFERENCES jobs (id);
    ALTER TABLE jobs ADD COLUMN extension INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: credits bought with Telegram Stars. A payment is a row keyed by Telegram's charge id,
    # and its one 'purchase' row in the ledger carries the same key (UNIQUE): the same payment
    # delivered twice can add nothing. A ledger row belongs to a pool: 'daily' rows count
    # since the last reset hour, 'bought' rows for ever. A refund is 'pending' between taking
    # the credits back and Telegram's answer, so an interrupted one can be finished.
    """
    CREATE TABLE payments (
        charge_id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        platform TEXT NOT NULL,
        provider_charge_id TEXT,
        currency TEXT NOT NULL,
        amount INTEGER NOT NULL,
        credits INTEGER NOT NULL,
        payload TEXT NOT NULL,
        at REAL NOT NULL,
        refund_state TEXT CHECK (refund_state IN ('pending', 'done')),
        refund_credits INTEGER,
        refunded_by TEXT,
        refunded_at REAL
    );
    CREATE INDEX payments_at ON payments (at);
    ALTER TABLE ledger ADD COLUMN pool TEXT NOT NULL DEFAULT 'daily'
        CHECK (pool IN ('daily', 'bought'));
    ALTER TABLE ledger ADD COLUMN charge_id TEXT REFERENCES payments (charge_id);
    CREATE UNIQUE INDEX ledger_purchase ON ledger (charge_id) WHERE kind = 'purchase';
    CREATE INDEX ledger_bought ON ledger (user_id) WHERE pool = 'bought';
    """,
    # 7: moderation. Each refusal by the classifier, for the admins: who, when, which check
    # (a photo before it queued, a video before it was sent), the scores, a hash of the
    # photo, and the photo's file only where the operator keeps them. `lifted`: an admin
    # ended the person's pause for the day.
    """
    CREATE TABLE moderation (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        job_id TEXT REFERENCES jobs (id),
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'video')),
        label TEXT NOT NULL,
        scores TEXT NOT NULL,
        photo_sha256 TEXT,
        kept_path TEXT,
        lifted INTEGER NOT NULL DEFAULT 0,
        at REAL NOT NULL
    );
    CREATE INDEX moderation_user ON moderation (user_id, at);
    CREATE INDEX moderation_at ON moderation (at);
    """,
]

LATEST = len(MIGRATIONS)
