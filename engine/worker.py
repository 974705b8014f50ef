"""Spec in, MP4 out: what a worker does with a batch of compatible jobs.

Used by the bot's local executor (a thread) and by `i2vbot worker` processes alike. It
decodes each photo, prepares each job for its model (the background blurred for `--focus`,
the prompt translated for a model that reads English only), runs the engine of the batch's
model once for the batch, encodes each clip and reports every step through `emit` (with a
preview of each job now and then, as the batch's first spec plans them); it never raises for
a job's own failure, which becomes a FAILED event. A job whose spec asks for it has a few
frames of its clip checked by the moderation classifier first: a refused clip is never
encoded (a FAILED event with the scores, whose credits the core gives back). A worker holds
one engine per model it offers but keeps one model in GPU memory at a time: a batch of
another model unloads it and loads its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from PIL import Image

from engine.base import Clip, Engine, VideoJob
from engine.effects import encode, last_frame
from engine.focus import focus_subject
from engine.images import load_photo
from engine.moderation.classifier import PictureClassifier
from engine.previews import Previews
from engine.spec.errors import GenerationCancelled, GenerationFailed, InternalError, Rejected
from engine.spec.moderation import REFUSED_VIDEO, UNAVAILABLE_VIDEO
from engine.spec.work import RenderSpec, WorkEvent, WorkKind
from engine.translation.translator import Translator

logger = logging.getLogger(__name__)

Emit = Callable[[WorkEvent], None]


class BatchRenderer:
    def __init__(self, *engines: Engine, translator: Translator | None = None,
                 classifier: PictureClassifier | None = None,
                 load_classifier: bool = False) -> None:
        """`engines`: one per model offered; the first is loaded at start. `translator`:
        prompts to English for the models whose card asks for it (None: as written).
        `classifier` checks the videos whose spec asks for it (loaded at start with
        `load_classifier`, else on first use); without one such a video fails rather than go
        out unchecked."""
        self.engines = {engine.card.name: engine for engine in engines}
        self._current = engines[0]
        self.translator = translator
        self.classifier = classifier
        self._load_classifier = load_classifier

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.engines)

    @property
    def loaded_model(self) -> str | None:
        return self._current.card.name if self._current.loaded else None

    def load(self) -> None:
        self._current.load()
        if self.translator is not None:
            self.translator.warm()
        if self.classifier is not None and self._load_classifier:
            self.classifier.load()

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

        def on_preview(step: int, total: int, jpegs: Sequence[bytes]) -> None:
            for (spec, _), jpeg in zip(ready, jpegs, strict=True):
                emit(WorkEvent(WorkKind.PROGRESS, spec.job_id, step=step, total=total,
                               preview=jpeg))

        plan = ready[0][0].previews
        previews = Previews(plan, on_preview) if plan.on else None
        try:
            engine = self._engine(ready[0][0].params.model)
            clips = engine.generate([self._prepared(spec, photo) for spec, photo in ready],
                                    on_step, should_stop, previews)
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
            emit(self._finish(spec, clip))

    def _prepared(self, spec: RenderSpec, photo: Image.Image) -> VideoJob:
        """What the model gets: the photo with its background blurred for `--focus`, and
        the English it reads when its card asks for English (Wan reads any language)."""
        params = spec.params
        if params.focus is not None:
            photo, box = focus_subject(photo, params.focus)
            logger.info("job %s: subject kept sharp in %s, the rest blurred (%.1f%%)",
                        spec.job_id, box, params.focus)
        if params.card.english_prompts and self.translator is not None:
            params = self.translator.for_model(params)
            if params.translated_prompt is not None or params.translated_negative is not None:
                logger.info("job %s: the %s prompt was translated to English", spec.job_id,
                            params.prompt_language)
        return VideoJob(photo, params)

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

    def _finish(self, spec: RenderSpec, clip: Clip) -> WorkEvent:
        """The check (on the clip as the model made it: what effects add is the clip again,
        or the video an extension continues, checked when it was made), then the effects and
        the MP4: a refused clip costs no encoding and leaves no file."""
        try:
            if spec.moderation is not None:  # the clip as the model made it
                refused = self._moderate(spec, clip.frames)
                if refused is not None:
                    return refused
            video = encode(spec, clip.frames, clip.params)
        except Rejected as exc:
            return _failed(spec, exc)
        except Exception as exc:
            logger.exception("job %s: encoding failed", spec.job_id)
            return _failed(spec, exc)
        return WorkEvent(WorkKind.DONE, spec.job_id, video=replace(
            video, params=clip.params, lowered_from=clip.lowered_from))

    def _moderate(self, spec: RenderSpec, frames: np.ndarray) -> WorkEvent | None:
        """None when the clip may go out; else its FAILED event."""
        assert spec.moderation is not None
        if self.classifier is None:
            return WorkEvent(WorkKind.FAILED, spec.job_id, reason=UNAVAILABLE_VIDEO,
                             detail="this worker has no moderation classifier")
        try:
            verdict = self.classifier.check_frames(frames, spec.moderation)
        except InternalError as exc:  # e.g. its weights are not on this machine
            logger.error("job %s: the video could not be checked: %s", spec.job_id, exc)
            return WorkEvent(WorkKind.FAILED, spec.job_id, reason=UNAVAILABLE_VIDEO,
                             detail=str(exc))
        if not verdict.refused:
            return None
        logger.warning("job %s: video refused by moderation (%s %.3f)", spec.job_id,
                       verdict.refused_by, verdict.score)
        return WorkEvent(WorkKind.FAILED, spec.job_id, reason=REFUSED_VIDEO, verdict=verdict,
                         detail=f"refused by moderation: {verdict.refused_by} "
                                f"{verdict.score:.3f}")


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
