"""The SQLite store: every SQL statement of the project lives in this package."""

from bot.store.store import LedgerEntry, QueuedRow, Store, StoreError, TopUser, new_job_id

__all__ = ["LedgerEntry", "QueuedRow", "Store", "StoreError", "TopUser", "new_job_id"]
