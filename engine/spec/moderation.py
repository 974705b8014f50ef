"""What moderation decides, in plain data shared by the core and the workers.

A classifier (engine/moderation/) scores a picture per label; `Thresholds` turns the scores
into a `Verdict`. The core checks photos before they queue; a worker checks a few frames of
each video before it is sent, with the thresholds the core put in the job's spec (None: not
checked). No torch here: the core imports this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MODES = ("off", "photos", "photos+videos")
CHECKS = ("photo", "video")
FRAMES_CHECKED = 4  # frames of a video classified, spread from its first to its last
REFUSED = "moderation_refused"  # the catalogue's words for a refused photo
REFUSED_VIDEO = "moderation_refused_video"  # ... and for a video refused after rendering
# The classifier cannot run: nothing goes out unchecked (a photo is refused, a video failed).
UNAVAILABLE = "moderation_unavailable"
UNAVAILABLE_VIDEO = "moderation_unavailable_video"
PAUSED = "moderation_paused"  # refused too often today


@dataclass(frozen=True)
class Classifier:
    """The default classifier, as the README and `doctor` describe it."""

    hub_id: str
    license: str
    size: str
    labels: tuple[str, ...]


DEFAULT = Classifier(
    hub_id="Falconsai/nsfw_image_detection",
    license="Apache-2.0",
    size="ViT-Base/16 at 224x224, 86 M parameters, a 343 MB download (model.safetensors)",
    labels=("normal", "nsfw"),
)


@dataclass(frozen=True)
class Verdict:
    """A classifier's judgement of one photo or one video (its highest score per label over
    the frames checked). `refused_by` is the label whose threshold was reached."""

    check: str  # "photo" or "video"
    scores: tuple[tuple[str, float], ...]
    refused_by: str | None = None

    @property
    def refused(self) -> bool:
        return self.refused_by is not None

    @property
    def score(self) -> float:
        """The score that decided: the refusing label's, else the highest."""
        table = dict(self.scores)
        if self.refused_by is not None:
            return table[self.refused_by]
        return max(table.values(), default=0.0)

    def to_dict(self) -> dict[str, object]:
        return {"check": self.check, "scores": dict(self.scores), "refused_by": self.refused_by}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Verdict:
        scores = data.get("scores")
        assert isinstance(scores, Mapping)
        refused_by = data.get("refused_by")
        return cls(check=str(data["check"]),
                   scores=tuple((str(k), float(v)) for k, v in scores.items()),
                   refused_by=None if refused_by is None else str(refused_by))


@dataclass(frozen=True)
class Thresholds:
    """The score per label at or above which a picture is refused (I2V_MODERATION_THRESHOLDS,
    e.g. "nsfw:0.5"). Labels without a threshold (the classifier's "normal") never refuse."""

    limits: tuple[tuple[str, float], ...] = (("nsfw", 0.5),)

    @classmethod
    def parse(cls, text: str) -> Thresholds:
        """"label:score,label:score"; a ValueError says what is wrong."""
        limits = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            label, sep, value = part.rpartition(":")
            try:
                score = float(value)
            except ValueError:
                score = -1.0
            if not sep or not label.strip() or not 0 < score <= 1:
                raise ValueError(f"{part!r} is not label:score with a score above 0 and at "
                                 "most 1 (e.g. nsfw:0.5)")
            limits.append((label.strip(), score))
        if not limits:
            raise ValueError("name at least one label:score (e.g. nsfw:0.5)")
        return cls(tuple(limits))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.limits)

    def judge(self, check: str, scores: Mapping[str, float]) -> Verdict:
        """The verdict on these scores: refused by the label that passes its threshold by
        the most, if any does."""
        over = [(scores[label] - limit, label) for label, limit in self.limits
                if scores.get(label, 0.0) >= limit]
        kept = tuple(sorted(((str(k), round(float(v), 4)) for k, v in scores.items()),
                            key=lambda item: -item[1]))
        return Verdict(check, kept, max(over)[1] if over else None)

    def describe(self) -> str:
        return ", ".join(f"{label} ≥ {limit:g}" for label, limit in self.limits)

    def to_text(self) -> str:
        return ",".join(f"{label}:{limit:g}" for label, limit in self.limits)
