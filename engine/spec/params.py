"""Generation parameters: what decides a video, checked against its model's card.

A resolution such as "512p" is a pixel budget of about 512x512 whose shape follows the
photo's aspect ratio, in multiples of the model's grid (64 for I2VGen-XL: a 3:2 landscape at
512p is 640x384). Every range, preset and recipe comes from the model's card
(engine/spec/cards.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from engine.spec.cards import DEFAULT_MODEL, ModelCard, Recipe, card, cards
from engine.spec.errors import Rejected

SEED = (0, 2**32 - 1)
SIDE = (128, 2048)  # an explicit --size: each side, multiple of the model's grid
MAX_ASPECT = 4.0  # wider than 4:1 (or taller) is cropped down to 4:1
MAX_PROMPT_CHARS = 1000
LOOP_MODES = ("pingpong", "crossfade")
SMOOTH_MAX_FPS = 30
DEFAULT_PRESET = "standard"
FOCUS = (0.1, 10.0)  # --focus: the background's blur radius, in % of the photo's short side
# A recipe's size is kept when cropping the photo to its shape keeps at least this share of
# the photo; otherwise the video keeps the recipe's pixel count in the photo's own shape.
RECIPE_FIT = 0.75


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
    # Done to the photo before the model (engine/focus.py): the subject kept sharp, the rest
    # blurred with this radius, in percent of the photo's shorter side.
    focus: float | None = None
    eta: float | None = None  # the DDIM sampler's eta; None: the model's default
    recipe: str | None = None  # the card's recipe that set size, frames, fps, steps, guidance
    # Filled in by the worker for a model that reads English only (its card's
    # `english_prompts`): the prompt's language as detected, and the English the model read
    # instead of the person's words (None: it read them as written).
    prompt_language: str | None = None
    translated_prompt: str | None = None
    translated_negative: str | None = None

    @property
    def card(self) -> ModelCard:
        return card(self.model)

    @property
    def model_prompt(self) -> str:
        """The prompt the model reads: the translation when there is one."""
        return self.prompt if self.translated_prompt is None else self.translated_prompt

    @property
    def model_negative(self) -> str:
        return self.negative_prompt if self.translated_negative is None \
            else self.translated_negative

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenParams:
        """From stored or sent JSON: a field this version does not know (written by a newer
        one) is dropped, a missing one (an older row or worker) takes its default."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

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
        recipe = overrides.get("recipe")
        if recipe is not None:  # a recipe's values win over the preset's, flags over both
            base = replace(base, **recipe_of(model_card, str(recipe)).values())
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
        if self.eta is not None:
            if model.eta is None:
                raise Rejected("no_eta", f"{model.title}'s sampler has no eta.",
                               model=model.title)
            if self.fast:
                raise Rejected("eta_fast", "The speed mode samples with DPM-Solver++, which "
                               "has no eta.")
            check_range("eta", self.eta, model.eta)
        if self.focus is not None:
            check_range("focus", self.focus, FOCUS)
        if self.recipe is not None:
            recipe_of(model, self.recipe)
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
        """Fix width/height from the photo's shape unless an explicit size was given. A
        recipe's size is kept when the photo fits its shape (cropping keeps RECIPE_FIT of
        it); otherwise its pixel count is kept in the photo's shape (a portrait photo with
        640x384 runs at 384x640)."""
        aspect = image_width / image_height
        if self.width is None or self.height is None:
            w, h = size_for(self.resolution, aspect, self.card)
            return replace(self, width=w, height=h)
        recipe = self.card.recipes.get(self.recipe or "")
        if recipe is None or (self.width, self.height) != (recipe.width, recipe.height):
            return self  # an explicit --size (given with a recipe or not) is kept as it is
        shape = self.width / self.height
        if min(shape, aspect) / max(shape, aspect) >= RECIPE_FIT:
            return self
        w, h = shaped(self.width * self.height, aspect, self.card.multiple)
        return replace(self, width=w, height=h)


def recipe_of(model: ModelCard, name: str) -> Recipe:
    found = model.recipes.get(name)
    if found is not None:
        return found
    if not model.recipes:
        raise Rejected("no_recipes", f"{model.title} has no recipes.", model=model.title)
    raise Rejected("bad_recipe", f"Unknown recipe '{name}'. Choose one of: "
                   f"{', '.join(model.recipes)}.", name=name, choices=", ".join(model.recipes))


def batch_key(params: GenParams) -> tuple[object, ...]:
    """Jobs with equal keys can share one pipeline call."""
    return (params.model, params.width, params.height, params.frames, params.steps,
            params.guidance, params.fps, params.fast, params.eta)


class InternalValueError(ValueError):
    pass


def check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    lo, hi = bounds
    if lo == hi and value != lo:  # a distilled model's fixed steps or guidance
        raise Rejected("fixed_value", f"{name} is always {lo} for this model (got {value}).",
                       name=name, lo=lo, value=value)
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
    is at most about `resolution`**2."""
    side = model.resolutions[resolution]
    return shaped(side * side, aspect, model.multiple)


def shaped(budget: int, aspect: float, grid: int) -> tuple[int, int]:
    """Width and height on the grid, close to `aspect`, whose area is at most `budget`
    pixels: each side rounded to the grid, then the side whose trimming keeps the shape
    closest is trimmed until the area fits."""
    aspect = min(max(aspect, 1 / MAX_ASPECT), MAX_ASPECT)

    def snap(x: float) -> int:
        return max(grid, round(x / grid) * grid)

    w, h = snap(math.sqrt(budget * aspect)), snap(math.sqrt(budget / aspect))
    while w * h > budget:
        candidates = [(w - grid, h), (w, h - grid)]
        w, h = min((c for c in candidates if min(c) >= grid),
                   key=lambda c: abs(math.log(c[0] / c[1] / aspect)))
    return w, h
