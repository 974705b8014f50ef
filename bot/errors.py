"""The one user-facing error of the project.

A `UserError` is a refusal the person can act on: a `key` of the text catalogue and its
parameters. Adapters show `texts.error_text(exc, lang)`; `str(exc)` is the English sentence,
for logs. Everything else is an internal fault: logged in full, shown as a short apology.
"""

from __future__ import annotations

from typing import Any

from bot.texts import text
from engine.spec.errors import Rejected


class UserError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def __str__(self) -> str:
        try:
            return text(self.key, "en", **self.params)
        except (KeyError, IndexError):  # a key the catalogue lacks: the test catches it
            return f"{self.key} {self.params}"

    @classmethod
    def from_rejection(cls, exc: Rejected) -> UserError:
        """The engine's refusal (a bad photo, a value out of range) as the person's error."""
        return cls(exc.code, **exc.params)
