"""The one exception hierarchy of the project.

`UserError` carries a message the person in the chat can act on (a stable `key` for
translation plus English text); everything else is an internal fault that is logged in full
and shown to the user only as a short apology. The core and the adapters import these too,
so the dependency still points from `bot/` and `adapters/` to `engine/`.
"""

from __future__ import annotations

from typing import Any


class I2VError(Exception):
    """Base of every error raised on purpose by i2v-bot."""


class UserError(I2VError):
    """Bad input or a refused request: the message says what to do instead."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.params = params


class InternalError(I2VError):
    """A fault of ours or of the machine (GPU, ffmpeg, model files)."""


class GenerationCancelled(I2VError):
    """Raised inside generation when the caller asked to stop."""


class GenerationFailed(InternalError):
    """The model failed in a way the person can work around (another seed, a lower
    resolution): its message says how, and is shown to them."""


class OutOfGpuMemory(GenerationFailed):
    """CUDA ran out of memory even after the engine's own fallback."""
