"""The engine's exceptions. Each refusal a person can act on carries a stable `code` and
its parameters; the core turns the code into a sentence in the person's language, so the
English `message` here is for logs and developers only.
"""

from __future__ import annotations

from typing import Any


class I2VError(Exception):
    """Base of every error raised on purpose by the engine."""


class Rejected(I2VError):
    """Input the engine will not take (a damaged photo, a value out of range, a video that
    cannot fit the upload limit). `code` names the refusal in the text catalogue."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


class InternalError(I2VError):
    """A fault of ours or of the machine (GPU, ffmpeg, model files)."""


class GenerationCancelled(I2VError):
    """Raised inside generation when the caller asked to stop."""


class GenerationFailed(InternalError):
    """The model failed in a way the catalogue can explain (try another seed or a lower
    resolution; the model would not load): `code` and `params` say it."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class OutOfGpuMemory(GenerationFailed):
    """CUDA ran out of memory even after the engine's own fallback."""
