"""Generation parameters: the presets and ranges of the seeds, and the size of a video.

A resolution such as "512p" is a pixel budget of about 512x512 whose shape follows the
photo's aspect ratio, in multiples of 64 (a 3:2 landscape at 512p is 640x384).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine.errors import Rejected

RESOLUTIONS: dict[str, int] = {"256p": 256, "512p": 512, "768p": 768, "1024p": 1024}

FRAMES = (8, 32)
FPS = (4, 24)
STEPS = (10, 100)
GUIDANCE = (1.0, 20.0)
SEED = (0, 2**32 - 1)
SIDE = (128, 2048)  # an explicit --size: each side, multiple of 64
MAX_ASPECT = 4.0  # wider than 4:1 (or taller) is cropped down to 4:1
MAX_PROMPT_CHARS = 1000
MULTIPLE = 64
LOOP_MODES = ("pingpong", "crossfade")
SMOOTH_MAX_FPS = 30


def smooth_fps(fps: int) -> int:
    """The frame rate `--smooth` raises a clip to: three times, at most 30."""
    return min(SMOOTH_MAX_FPS, 3 * fps)


@dataclass(frozen=True)
class Preset:
    name: str
    resolution: str
    frames: int
    fps: int
    steps: int
    guidance: float
    description: str


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("preview", "512p", 8, 8, 30, 9.0, "quick check that the motion works"),
        Preset("standard", "512p", 16, 8, 50, 9.0, "balanced, the default"),
        Preset("high", "768p", 24, 12, 80, 9.0, "more detail, slower"),
        Preset("max", "1024p", 32, 12, 100, 9.0, "best quality, needs a large GPU"),
    )
}
PRESET_ORDER = list(PRESETS)
DEFAULT_PRESET = "standard"


def next_preset(name: str) -> str | None:
    """The preset one step better than `name`, or None at the top."""
    i = PRESET_ORDER.index(name)
    return PRESET_ORDER[i + 1] if i + 1 < len(PRESET_ORDER) else None


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
    # The speed mode (engine/fast.py): about a third of the compute, a different video.
    fast: bool = False

    @classmethod
    def from_preset(cls, name: str, prompt: str, **overrides: object) -> GenParams:
        p = PRESETS.get(name)
        if p is None:
            raise Rejected(
                "bad_preset",
                f"Unknown preset '{name}'. Choose one of: {', '.join(PRESETS)}.",
                name=name,
                choices=", ".join(PRESETS),
            )
        base = cls(prompt=prompt, preset=p.name, resolution=p.resolution, frames=p.frames,
                   fps=p.fps, steps=p.steps, guidance=p.guidance)
        return replace(base, **overrides).validated()  # type: ignore[arg-type]

    def validated(self) -> GenParams:
        check_range("frames", self.frames, FRAMES)
        check_range("fps", self.fps, FPS)
        check_range("steps", self.steps, STEPS)
        check_range("guidance", self.guidance, GUIDANCE)
        if self.seed is not None:
            check_range("seed", self.seed, SEED)
        if self.resolution not in RESOLUTIONS:
            raise Rejected("bad_resolution",
                            f"Resolution must be one of {', '.join(RESOLUTIONS)}.",
                            choices=", ".join(RESOLUTIONS))
        if (self.width is None) != (self.height is None):
            raise InternalValueError("width and height go together")
        if self.width is not None and self.height is not None:
            check_size(self.width, self.height)
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
        w, h = size_for(self.resolution, image_width / image_height)
        return replace(self, width=w, height=h)


def batch_key(params: GenParams) -> tuple[object, ...]:
    """Jobs with equal keys can share one pipeline call."""
    return (params.width, params.height, params.frames, params.steps, params.guidance,
            params.fps, params.fast)


class InternalValueError(ValueError):
    pass


def check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    lo, hi = bounds
    if not lo <= value <= hi:
        raise Rejected("out_of_range",
                        f"{name} must be between {lo} and {hi} (got {value}).",
                        name=name, lo=lo, hi=hi, value=value)


def check_size(width: int, height: int) -> None:
    lo, hi = SIDE
    for side in (width, height):
        if not lo <= side <= hi or side % MULTIPLE:
            raise Rejected(
                "bad_size",
                f"Size {width}x{height} is not allowed: each side must be a multiple of "
                f"{MULTIPLE} between {lo} and {hi}, e.g. 640x384.",
                size=f"{width}x{height}", lo=lo, hi=hi, multiple=MULTIPLE)
    if width * height > RESOLUTIONS["1024p"] ** 2:
        raise Rejected("size_too_large",
                        f"Size {width}x{height} is over the 1024p pixel budget "
                        f"(1024x1024). Pick a smaller size.", size=f"{width}x{height}")


def size_for(resolution: str, aspect: float) -> tuple[int, int]:
    """Width and height in multiples of 64, close to `aspect` (width / height), whose area
    is at most about `resolution`**2: each side rounded to the grid, then the side whose
    trimming keeps the shape closest is trimmed until the area fits the budget."""
    side = RESOLUTIONS[resolution]
    aspect = min(max(aspect, 1 / MAX_ASPECT), MAX_ASPECT)
    budget = side * side

    def snap(x: float) -> int:
        return max(MULTIPLE, round(x / MULTIPLE) * MULTIPLE)

    w, h = snap(math.sqrt(budget * aspect)), snap(math.sqrt(budget / aspect))
    while w * h > budget:
        candidates = [(w - MULTIPLE, h), (w, h - MULTIPLE)]
        w, h = min((c for c in candidates if min(c) >= MULTIPLE),
                   key=lambda c: abs(math.log(c[0] / c[1] / aspect)))
    return w, h
