"""Generation parameters: what decides a video, checked against its model's card.

A resolution such as "512p" is a pixel budget of about 512x512 whose shape follows the
photo's aspect ratio, in multiples of the model's grid (64 for I2VGen-XL: a 3:2 landscape at
512p is 640x384). Every range and preset comes from the model's card (engine/spec/cards.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine.spec.cards import DEFAULT_MODEL, ModelCard, card, cards
from engine.spec.errors import Rejected

SEED = (0, 2**32 - 1)
SIDE = (128, 2048)  # an explicit --size: each side, multiple of the model's grid
MAX_ASPECT = 4.0  # wider than 4:1 (or taller) is cropped down to 4:1
MAX_PROMPT_CHARS = 1000
LOOP_MODES = ("pingpong", "crossfade")
SMOOTH_MAX_FPS = 30
DEFAULT_PRESET = "standard"


def smooth_fps(fps: int) -> int:
    """The frame rate `--smooth` raises a clip to: three times, at most 30."""
    return min(SMOOTH_MAX_FPS, 3 * fps)


def max_pixels() -> int:
    """An explicit --size: at most the largest pixel budget of any model."""
    return max(side for c in cards().values() for side in c.resolutions.values()) ** 2


@dataclass(frozen=True)
class GenParams:
    """Everything that decides a video, apart from the photo. `width`/`height` are None
    until the photo's aspect ratio is known, unless the user gave an explicit size."""

    prompt: str
    preset: str = DEFAULT_PRESET
    resolution: str = "512p"
    frames: int = 16
    fps: int = 8
    steps: int = 50
    guidance: float = 9.0
    negative_prompt: str = ""
    seed: int | None = None
    width: int | None = None
    height: int | None = None
    # Done to the frames after the model (engine/effects.py): no GPU time.
    loop: str | None = None  # "pingpong" or "crossfade": a video that loops seamlessly
    smooth_fps: int | None = None  # motion-interpolated up to this frame rate
    # The speed mode (the card's `fast`; I2VGen-XL's fast.py): less compute, another video.
    fast: bool = False
    model: str = DEFAULT_MODEL  # a card's name (engine/spec/cards.py)

    @property
    def card(self) -> ModelCard:
        return card(self.model)

    @classmethod
    def from_preset(cls, name: str, prompt: str, model: str = DEFAULT_MODEL,
                    **overrides: object) -> GenParams:
        model_card = card(model)
        p = model_card.presets.get(name)
        if p is None:
            raise Rejected(
                "bad_preset",
                f"Unknown preset '{name}'. Choose one of: {', '.join(model_card.presets)}.",
                name=name,
                choices=", ".join(model_card.presets),
            )
        base = cls(prompt=prompt, preset=p.name, resolution=p.resolution, frames=p.frames,
                   fps=p.fps, steps=p.steps, guidance=p.guidance, model=model_card.name)
        return replace(base, **overrides).validated()  # type: ignore[arg-type]

    def validated(self) -> GenParams:
        model = self.card
        check_range("frames", self.frames, model.frames)
        if (self.frames - 1) % model.frame_step:
            raise Rejected("bad_frame_count",
                           f"{model.title} makes {model.frame_counts()} frames, not "
                           f"{self.frames}.", model=model.name, frames=self.frames,
                           counts=model.frame_counts())
        check_range("fps", self.fps, model.fps)
        check_range("steps", self.steps, model.steps)
        check_range("guidance", self.guidance, model.guidance)
        if self.seed is not None:
            check_range("seed", self.seed, SEED)
        if self.resolution not in model.resolutions:
            raise Rejected("bad_resolution",
                            f"Resolution must be one of {', '.join(model.resolutions)}.",
                            choices=", ".join(model.resolutions))
        if self.fast and not model.fast:
            raise Rejected("no_fast_mode", f"The speed mode is not available for "
                           f"{model.title}.", model=model.name)
        if (self.width is None) != (self.height is None):
            raise InternalValueError("width and height go together")
        if self.width is not None and self.height is not None:
            check_size(self.width, self.height, model.multiple)
        if self.loop is not None and self.loop not in LOOP_MODES:
            raise InternalValueError(f"loop must be one of {LOOP_MODES}, not {self.loop!r}")
        if self.smooth_fps is not None:
            check_range("smooth_fps", self.smooth_fps, (self.fps + 1, 60))
        if not self.prompt.strip():
            raise Rejected("empty_prompt",
                            "Please describe the motion, e.g. 'a cat turning its head slowly'.")
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise Rejected("prompt_too_long",
                            f"The prompt is {len(self.prompt)} characters; the limit is "
                            f"{MAX_PROMPT_CHARS}. Shorten it.",
                            length=len(self.prompt), limit=MAX_PROMPT_CHARS)
        return self

    def sized_for(self, image_width: int, image_height: int) -> GenParams:
        """Fix width/height from the photo's shape unless an explicit size was given."""
        if self.width is not None:
            return self
        w, h = size_for(self.resolution, image_width / image_height, self.card)
        return replace(self, width=w, height=h)


def batch_key(params: GenParams) -> tuple[object, ...]:
    """Jobs with equal keys can share one pipeline call."""
    return (params.model, params.width, params.height, params.frames, params.steps,
            params.guidance, params.fps, params.fast)


class InternalValueError(ValueError):
    pass


def check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    lo, hi = bounds
    if not lo <= value <= hi:
        raise Rejected("out_of_range",
                        f"{name} must be between {lo} and {hi} (got {value}).",
                        name=name, lo=lo, hi=hi, value=value)


def check_size(width: int, height: int, multiple: int) -> None:
    lo, hi = SIDE
    for side in (width, height):
        if not lo <= side <= hi or side % multiple:
            raise Rejected(
                "bad_size",
                f"Size {width}x{height} is not allowed: each side must be a multiple of "
                f"{multiple} between {lo} and {hi}, e.g. 640x384.",
                size=f"{width}x{height}", lo=lo, hi=hi, multiple=multiple)
    if width * height > max_pixels():
        raise Rejected("size_too_large",
                        f"Size {width}x{height} is over the 1024p pixel budget "
                        f"(1024x1024). Pick a smaller size.", size=f"{width}x{height}")


def size_for(resolution: str, aspect: float, model: ModelCard) -> tuple[int, int]:
    """Width and height on the model's grid, close to `aspect` (width / height), whose area
    is at most about `resolution`**2: each side rounded to the grid, then the side whose
    trimming keeps the shape closest is trimmed until the area fits the budget."""
    side = model.resolutions[resolution]
    grid = model.multiple
    aspect = min(max(aspect, 1 / MAX_ASPECT), MAX_ASPECT)
    budget = side * side

    def snap(x: float) -> int:
        return max(grid, round(x / grid) * grid)

    w, h = snap(math.sqrt(budget * aspect)), snap(math.sqrt(budget / aspect))
    while w * h > budget:
        candidates = [(w - grid, h), (w, h - grid)]
        w, h = min((c for c in candidates if min(c) >= grid),
                   key=lambda c: abs(math.log(c[0] / c[1] / aspect)))
    return w, h
