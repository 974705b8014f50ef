"""Spec in, MP4 out: what a worker does with a batch of compatible jobs.

Used by the bot's local executor (a thread) and by `i2vbot worker` processes alike. It
decodes each photo, runs the engine of the batch's model once for the batch, encodes each
clip and reports every step through `emit`; it never raises for a job's own failure, which
becomes a FAILED event. A worker holds one engine per model it offers but keeps one model
in GPU memory at a time: a batch of another model unloads it and loads its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from PIL import Image

from engine.base import Clip, Engine, VideoJob
from engine.effects import finish, last_frame
from engine.images import load_photo
from engine.spec.errors import GenerationCancelled, GenerationFailed, InternalError, Rejected
from engine.spec.work import RenderSpec, WorkEvent, WorkKind
from engine.video import encode_mp4

logger = logging.getLogger(__name__)

Emit = Callable[[WorkEvent], None]


class BatchRenderer:
    def __init__(self, *engines: Engine) -> None:
        """`engines`: one per model offered; the first is loaded at start."""
        self.engines = {engine.card.name: engine for engine in engines}
        self._current = engines[0]

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.engines)

    @property
    def loaded_model(self) -> str | None:
        return self._current.card.name if self._current.loaded else None

    def load(self) -> None:
        self._current.load()

    def describe(self) -> str:
        others = [name for name in self.engines if name != self._current.card.name]
        also = f" (also offers {', '.join(others)})" if others else ""
        return self._current.describe() + also

    def _engine(self, model: str) -> Engine:
        engine = self.engines.get(model)
        if engine is None:
            raise Rejected("model_not_here", f"this worker does not run {model}", model=model)
        if engine is not self._current:
            logger.info("switching the GPU from %s to %s", self._current.card.name, model)
            self._current.unload()
            self._current = engine
        try:
            engine.load()
        except GenerationFailed:
            raise
        except InternalError as exc:  # e.g. its weights are not on this machine
            logger.error("%s could not be loaded: %s", model, exc)
            raise GenerationFailed("model_unavailable", f"{model} could not be loaded: {exc}",
                                   model=model) from exc
        return engine

    def run(self, specs: Sequence[RenderSpec], emit: Emit,
            should_stop: Callable[[], bool]) -> None:
        """Render the batch; blocks (call it from a worker thread)."""
        for spec in specs:
            emit(WorkEvent(WorkKind.STARTED, spec.job_id))
        ready = [(spec, photo) for spec in specs
                 if (photo := self._photo(spec, emit)) is not None]
        if not ready:
            return

        def on_step(step: int, total: int) -> None:
            for spec, _ in ready:
                emit(WorkEvent(WorkKind.PROGRESS, spec.job_id, step=step, total=total))

        try:
            engine = self._engine(ready[0][0].params.model)
            clips = engine.generate([VideoJob(photo, spec.params) for spec, photo in ready],
                                    on_step, should_stop)
        except GenerationCancelled:
            for spec, _ in ready:
                emit(WorkEvent(WorkKind.STOPPED, spec.job_id))
            return
        except (GenerationFailed, Rejected) as exc:
            for spec, _ in ready:
                emit(_failed(spec, exc))
            return
        except Exception as exc:  # the worker outlives any one batch
            logger.exception("jobs %s: generation failed", [s.job_id for s, _ in ready])
            for spec, _ in ready:
                emit(_failed(spec, exc))
            return
        for (spec, _), clip in zip(ready, clips, strict=True):
            emit(WorkEvent(WorkKind.ENCODING, spec.job_id))
            emit(self._encode(spec, clip))

    @staticmethod
    def _photo(spec: RenderSpec, emit: Emit) -> Image.Image | None:
        """The job's photo, decoded; an extension's is the last frame of the video it
        continues. None (and the job failed) when there is none to use."""
        try:
            try:
                if spec.photo is None:
                    if spec.extends is None:
                        raise Rejected("input_missing", "a job with neither photo nor video")
                    return Image.fromarray(last_frame(spec.extends))
                return load_photo(spec.photo.read_bytes(), _frame_of(spec))
            except FileNotFoundError as exc:
                raise Rejected("input_missing", f"{exc.filename} is gone") from None
        except Rejected as exc:
            emit(_failed(spec, exc))
            return None

    @staticmethod
    def _encode(spec: RenderSpec, clip: Clip) -> WorkEvent:
        try:
            frames, fps = finish(clip.frames, clip.params, spec.extends)
            video = encode_mp4(frames, fps, spec.output, max_bytes=spec.max_bytes)
        except Rejected as exc:
            return _failed(spec, exc)
        except Exception as exc:
            logger.exception("job %s: encoding failed", spec.job_id)
            return _failed(spec, exc)
        return WorkEvent(WorkKind.DONE, spec.job_id, video=replace(
            video, params=clip.params, lowered_from=clip.lowered_from))


def _failed(spec: RenderSpec, exc: Exception) -> WorkEvent:
    """A FAILED event: a code the person's language can explain, the details for the log."""
    if isinstance(exc, Rejected | GenerationFailed):
        return WorkEvent(WorkKind.FAILED, spec.job_id, reason=exc.code,
                         reason_params=dict(exc.params), detail=str(exc))
    return WorkEvent(WorkKind.FAILED, spec.job_id, reason="internal_error",
                     detail=f"{type(exc).__name__}: {exc}")


def _frame_of(spec: RenderSpec) -> tuple[int, int] | None:
    """The size the photo is framed to (a JPEG is decoded no larger than it needs)."""
    width, height = spec.params.width, spec.params.height
    return (width, height) if width and height else None
