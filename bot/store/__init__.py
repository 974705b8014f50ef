"""The SQLite store: every SQL statement of the project lives in this package."""

from bot.store.store import (
    LedgerEntry,
    Payment,
    QueuedRow,
    Refusal,
    Store,
    StoreError,
    Takings,
    TopUser,
    new_job_id,
)

__all__ = ["LedgerEntry", "Payment", "QueuedRow", "Refusal", "Store", "StoreError", "Takings",
           "TopUser", "new_job_id"]
