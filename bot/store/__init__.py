"""The SQLite store: every SQL statement of the project lives in this package."""

from bot.store.store import (
    LedgerEntry,
    QueuedRow,
    Refusal,
    Store,
    StoreError,
    TopUser,
    new_job_id,
)

__all__ = ["LedgerEntry", "QueuedRow", "Refusal", "Store", "StoreError", "TopUser",
           "new_job_id"]
