"""A look at what the I2VGen-XL engine receives, for tests anywhere: the jobs handed to
it, the texts its CLIP encoder reads, and the arguments of its one pipeline call."""

from __future__ import annotations

from typing import Any

import pytest


class Spy:
    """Records what the I2VGen-XL engine receives: the jobs, the texts its CLIP encodes and
    the pipeline's arguments."""

    def __init__(self, engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.jobs: list[Any] = []
        self.encoded: list[str] = []
        self.calls: list[dict[str, Any]] = []
        generate, prompts, call = engine.generate, engine._prompts, engine._call_pipeline

        def recording_generate(jobs, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.jobs.extend(jobs)
            return generate(jobs, *args, **kwargs)

        def recording_prompts(text: str) -> Any:
            self.encoded.append(text)
            return prompts(text)

        def recording_call(pipe: Any, **kwargs: Any) -> Any:
            self.calls.append(kwargs)
            return call(pipe, **kwargs)

        monkeypatch.setattr(engine, "generate", recording_generate)
        monkeypatch.setattr(engine, "_prompts", recording_prompts)
        monkeypatch.setattr(engine, "_call_pipeline", recording_call)
