"""The picture classifier: transformers' image-classification pipeline over a Hub model or
a local folder (a ViT fine-tuned for NSFW detection by default), loaded once, on first use.

The core calls `check_photo` from a worker thread before a photo queues; a GPU worker calls
`check_frames` on a few frames of each video before it is sent. One lock serialises the
calls: one pipeline is not made to be run by several threads at once, and on a CPU two
checks at once would only share the same cores.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.images import load_photo
from engine.spec.errors import InternalError
from engine.spec.moderation import DEFAULT, FRAMES_CHECKED, Thresholds, Verdict

logger = logging.getLogger(__name__)

SETTING = "I2V_MODERATION_MODEL"
DECODE_AT_LEAST = (448, 448)  # twice the classifier's input: plenty, and JPEGs decode fast


@dataclass(frozen=True)
class ClassifierConfig:
    """`model`: a Hub id, a local folder saved with save_pretrained, "tiny" or "synthetic"
    (random weights: engine/moderation/tiny.py). `device`: "cpu", "auto", "cuda", ..."""

    model: str = DEFAULT.hub_id
    device: str = "cpu"
    models_dir: Path = Path("data/models")  # where "tiny" is built
    cache_dir: Path | None = None  # Hugging Face cache override
    thresholds: Thresholds = field(default_factory=Thresholds)  # checked against its labels


class PictureClassifier:
    def __init__(self, config: ClassifierConfig) -> None:
        self.config = config
        self._pipe: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def load(self) -> None:
        """Load the pipeline (downloading it on first use); an InternalError says in one
        line what to set. Blocks: call it off the event loop."""
        with self._lock:
            if self._pipe is None:
                self._pipe = self._build()
                logger.info("moderation classifier ready: %s", self.describe())

    def describe(self) -> str:
        if self._pipe is None:
            return f"{self.config.model} (not loaded)"
        labels = ", ".join(self.labels)
        return (f"{self.config.model} on {self._pipe.device} ({self.parameters / 1e6:.1f} M "
                f"parameters, labels {labels})")

    @property
    def parameters(self) -> int:
        assert self._pipe is not None, "load() first"
        return sum(weight.numel() for weight in self._pipe.model.parameters())

    @property
    def labels(self) -> tuple[str, ...]:
        assert self._pipe is not None, "load() first"
        id2label = self._pipe.model.config.id2label
        return tuple(id2label[i] for i in sorted(id2label))

    def check_photo(self, photo: bytes, thresholds: Thresholds) -> Verdict:
        """The verdict on a photo as a person sent it; a photo that cannot be decoded is
        `Rejected` with the same words the worker would use."""
        image = load_photo(photo, fit=DECODE_AT_LEAST)
        return thresholds.judge("photo", self.scores([image]))

    def check_frames(self, frames: np.ndarray, thresholds: Thresholds) -> Verdict:
        """The verdict on a video from FRAMES_CHECKED of its frames (uint8, (n, h, w, 3)),
        its first and last among them: its highest score per label over them."""
        picks = sorted({round(i) for i in np.linspace(0, len(frames) - 1, FRAMES_CHECKED)})
        return thresholds.judge("video", self.scores([Image.fromarray(frames[i])
                                                      for i in picks]))

    def scores(self, images: Sequence[Image.Image]) -> dict[str, float]:
        """Each label's highest score over the images."""
        self.load()
        with self._lock:
            results = self._pipe(list(images), top_k=len(self.labels),
                                 batch_size=len(images))
        best: dict[str, float] = {}
        for result in results:
            for entry in result:
                best[entry["label"]] = max(best.get(entry["label"], 0.0), float(entry["score"]))
        return best

    def _build(self) -> Any:
        from transformers import pipeline
        from transformers.utils import logging as transformers_logging

        from engine.loader import pick_device
        from engine.moderation.tiny import ensure_tiny_classifier, synthetic_classifier

        transformers_logging.disable_progress_bar()  # no loading bars between log lines
        device = pick_device(self.config.device)
        model, extra = self.config.model, {}
        source, local = _source(self.config)
        if model == "tiny":
            source = str(ensure_tiny_classifier(self.config.models_dir))
        elif model == "synthetic":
            weights, processor = synthetic_classifier()
            source, extra = weights, {"image_processor": processor}
        kwargs: dict[str, Any] = {}
        if self.config.cache_dir is not None:
            kwargs["cache_dir"] = str(self.config.cache_dir)
        try:
            pipe = pipeline("image-classification", model=source, device=device,
                            dtype="float32", model_kwargs=kwargs, **extra)
        except (OSError, ValueError) as exc:
            where = (f"the folder {model} does not hold an image classifier saved with "
                     "save_pretrained" if local else
                     f"{model} is not on this machine and the Hugging Face Hub could not be "
                     f"reached (the first start downloads it; {DEFAULT.size} for the default)")
            raise InternalError(f"The moderation classifier could not be loaded: {where} "
                                f"({type(exc).__name__}). Set {SETTING} to a Hub id or a "
                                "folder, or I2V_MODERATION=off.") from exc
        _check_labels(pipe, self.config)
        return pipe


def _source(config: ClassifierConfig) -> tuple[str, bool]:
    """The Hub id or folder to load, and whether it is a local folder."""
    if config.model in ("tiny", "synthetic"):
        return config.model, True
    path = Path(config.model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InternalError(f"The moderation classifier folder {path} has no config.json: "
                                f"save one with save_pretrained, or set {SETTING} to a Hub id.")
        return str(path), True
    if path.is_absolute() or config.model.startswith((".", "~")):
        raise InternalError(f"The moderation classifier folder {path} does not exist: check "
                            f"{SETTING}.")
    return config.model, False


def _check_labels(pipe: Any, config: ClassifierConfig) -> None:
    """A threshold on a label the model lacks would never refuse anything: say so at load."""
    labels = set(pipe.model.config.id2label.values())
    unknown = [label for label in config.thresholds.labels if label not in labels]
    if unknown:
        raise InternalError(
            f"I2V_MODERATION_THRESHOLDS names {', '.join(unknown)}, which the classifier "
            f"{config.model} does not have: its labels are {', '.join(sorted(labels))}.")


def classifier_status(config: ClassifierConfig) -> str:
    """One line for `doctor`: is the classifier on this machine? Never downloads."""
    if config.model == "synthetic":
        return "synthetic random-weight ViT-Base, built in memory (never refuses)"
    if config.model == "tiny":
        return ("tiny random-weight stand-in (refuses mostly red pictures), built under "
                f"{config.models_dir}")
    try:
        source, local = _source(config)
    except InternalError as exc:
        return str(exc)
    if local:
        return f"local folder {source}"
    from huggingface_hub import constants, try_to_load_from_cache

    cache = str(config.cache_dir) if config.cache_dir else constants.HF_HUB_CACHE
    found = [try_to_load_from_cache(source, name, cache_dir=cache)
             for name in ("config.json", "model.safetensors")]
    if all(isinstance(f, str) for f in found):
        return f"{source} found in the Hugging Face cache ({cache})"
    size = f" ({DEFAULT.size})" if source == DEFAULT.hub_id else ""
    return f"{source} is not downloaded yet: the first start downloads it{size} into {cache}"
