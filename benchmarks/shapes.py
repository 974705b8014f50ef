"""The video shapes the benchmarks run: the real presets on a GPU, scaled-down stand-ins on a
CPU with the tiny model."""

from __future__ import annotations

from dataclasses import dataclass

from engine.spec.cards import card
from engine.spec.params import size_for

WAN_PREFIX = "wan-"  # "wan-standard": Wan's standard preset
TURBO_PREFIX = "turbo-"  # "turbo-max": FastWan's max preset


@dataclass(frozen=True)
class Shape:
    preset: str
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    guidance: float

    def label(self) -> str:
        return f"{self.width}x{self.height}, {self.frames} frames, {self.steps} steps"


def preset_shape(preset: str, aspect: float = 1.0) -> Shape:
    """A preset at its resolution's pixel budget (square by default: 512p is 512x512);
    "wan-NAME" is Wan's preset NAME, "turbo-NAME" FastWan's, the others I2VGen-XL's."""
    name, prefix = model_of(preset)
    model = card(name)
    p = model.presets[preset.removeprefix(prefix)]
    width, height = size_for(p.resolution, aspect, model)
    return Shape(preset, width, height, p.frames, p.fps, p.steps, p.guidance)


def model_of(preset: str) -> tuple[str, str]:
    """The model a benchmark preset name belongs to, and its prefix."""
    for prefix, model in ((WAN_PREFIX, "wan"), (TURBO_PREFIX, "turbo")):
        if preset.startswith(prefix):
            return model, prefix
    return "i2vgen-xl", ""


# Stand-ins for the presets with the tiny model on a CPU: same order of cost, seconds each.
CPU_SHAPES = {
    "preview": Shape("preview", 128, 128, 8, 8, 4, 9.0),
    "standard": Shape("standard", 128, 128, 8, 8, 4, 9.0),
    "high": Shape("high", 192, 192, 8, 12, 6, 9.0),
    "max": Shape("max", 256, 256, 8, 12, 6, 9.0),
    "wan-preview": Shape("wan-preview", 128, 128, 9, 24, 4, 5.0),
    "wan-standard": Shape("wan-standard", 160, 128, 17, 24, 6, 5.0),
    "wan-high": Shape("wan-high", 192, 192, 17, 24, 8, 5.0),
    "turbo-standard": Shape("turbo-standard", 160, 128, 17, 24, 3, 1.0),
    "turbo-max": Shape("turbo-max", 192, 192, 17, 24, 3, 1.0),
}

# The dry run's: the smallest that still gives every cut each of its kinds of step
# (engine/models/i2vgen_xl/fast.py plans them as fractions of the steps).
DRY_SHAPES = {"standard": Shape("standard", 64, 64, 8, 8, 6, 9.0),
              "wan-standard": Shape("wan-standard", 64, 64, 9, 24, 10, 5.0),
              "wan-high": Shape("wan-high", 96, 96, 9, 24, 10, 5.0),
              "turbo-standard": Shape("turbo-standard", 64, 64, 9, 24, 3, 1.0),
              "turbo-max": Shape("turbo-max", 96, 96, 9, 24, 3, 1.0)}
