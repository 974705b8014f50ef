"""The video models the engine can run, as cards: what each accepts and what it costs; and the
registry that finds them.

A card is plain data (no torch: the core reads it to check captions and price jobs). Each
model is a folder `engine/models/<name>/` whose `card.py` holds its `CARD`; the registry
finds every such folder the first time a card is asked for (as vLLM's model registry
resolves its table lazily), so adding a model is adding a folder. `register` adds one from
elsewhere (a plugin, a test). The engine class a card names ("module:Class") is imported
only on a worker.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.spec.errors import Rejected

DEFAULT_MODEL = "i2vgen-xl"  # the card offered when I2V_MODELS is not set
BUILT_IN = "engine.models"  # the package whose sub-packages are the built-in models
RANDOM_WEIGHTS = ("tiny", "synthetic")  # weights settings that mean random weights


@dataclass(frozen=True)
class Preset:
    name: str
    resolution: str
    frames: int
    fps: int
    steps: int
    guidance: float  # (each preset's description is in the text catalogue, translated)


def presets(*items: Preset) -> dict[str, Preset]:
    return {p.name: p for p in items}


@dataclass(frozen=True)
class Recipe:
    """A scene the original app tested, with the parameters that worked for it. Its size is
    a shape as well as a pixel budget: GenParams.sized_for keeps it when the photo fits it
    and otherwise keeps its pixel count in the photo's shape."""

    name: str
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    guidance: float
    prompt: str  # the prompt it was tested with, used when a caption has none

    def values(self) -> dict[str, object]:
        """The GenParams fields it sets."""
        return {"width": self.width, "height": self.height, "frames": self.frames,
                "fps": self.fps, "steps": self.steps, "guidance": self.guidance,
                "recipe": self.name}


def recipes(*items: Recipe) -> dict[str, Recipe]:
    return {r.name: r for r in items}


@dataclass(frozen=True)
class WeightFiles:
    """Where a model's weights are found, for the loader and `i2vbot doctor`."""

    tiny: str  # the tiny random-weight model's folder under models_dir
    probes: tuple[str, ...]  # in the Hub cache: the model, as a GPU loads it, is all there
    download: str  # what the first run downloads, in words


@dataclass(frozen=True)
class ModelCard:
    name: str  # what users type after --model
    title: str
    hub_id: str  # the default weights
    license: str
    needs: str  # its size and GPU memory, in words, for `i2vbot doctor`
    engine: str  # "module:Class" of its engine.base.Engine subclass
    weights_setting: str  # the variable naming its weights (a Hub id or a folder)
    files: WeightFiles
    presets: Mapping[str, Preset]
    # A resolution is a pixel budget of about side x side, shaped like the photo.
    resolutions: Mapping[str, int]
    multiple: int  # width and height are multiples of this (VAE scale x patch size)
    frames: tuple[int, int]
    frame_step: int  # frames must be 1 + k * frame_step (1: any count)
    fps: tuple[int, int]
    steps: tuple[int, int]
    guidance: tuple[float, float]
    # Credits per unit of pixels x frames x steps, relative to I2VGen-XL: the ratio of their
    # FLOPs per video at equal pixels x frames x steps (benchmarks/model_flops.py).
    cost_factor: float = 1.0
    max_batch: int = 8  # jobs that may share one pipeline call
    fast: bool = False  # whether it has a speed mode
    # The speed mode's share of a stock video's FLOPs, what a fast job is priced at (counted
    # per preset in benchmarks/RESULTS.md and MODELS.md, rounded up).
    fast_share: float = 1.0
    auto_dtype: str = "fp16"  # what dtype "auto" means on a CUDA GPU
    aliases: tuple[str, ...] = ()  # other names people type
    # Reads prompts through an English-only text encoder: the worker translates others.
    english_prompts: bool = False
    # The range of its sampler's eta (DDIM's noise per step); None: its sampler has none.
    eta: tuple[float, float] | None = None
    # Guidance above this stiffens the motion (the reply warns once); None: no such point.
    stiff_guidance: float | None = None
    recipes: Mapping[str, Recipe] = field(default_factory=dict)

    def frame_counts(self) -> str:
        """The frame counts it takes, in words, for messages."""
        lo, hi = self.frames
        if self.frame_step == 1:
            return f"{lo}-{hi}"
        return f"{lo}-{hi} of the form {self.frame_step}k+1 ({lo}, {lo + self.frame_step}, …)"

    def next_preset(self, name: str) -> str | None:
        """The preset one step better than `name`, or None at the top."""
        order = list(self.presets)
        i = order.index(name)
        return order[i + 1] if i + 1 < len(order) else None

    def make_engine(self, config: Any) -> Any:
        module, _, name = self.engine.partition(":")
        return getattr(importlib.import_module(module), name)(config)


_CARDS: dict[str, ModelCard] = {}


def _discover() -> None:
    package = importlib.import_module(BUILT_IN)
    found = [importlib.import_module(f"{BUILT_IN}.{m.name}.card").CARD
             for m in pkgutil.iter_modules(package.__path__) if m.ispkg]
    found.sort(key=lambda c: (c.name != DEFAULT_MODEL, c.name))  # the default first
    for model in found:
        _CARDS.setdefault(model.name, model)


def cards() -> dict[str, ModelCard]:
    """Every card, by name, the default model's first."""
    if not _CARDS:
        _discover()
    return _CARDS


def register(model: ModelCard) -> ModelCard:
    """Offer a model that lives outside engine/models/ (its engine importable by name)."""
    cards()[model.name] = model
    return model


def card(name: str) -> ModelCard:
    known = cards()
    wanted = name.lower()
    for model in known.values():
        if wanted == model.name or wanted in model.aliases:
            return model
    raise Rejected("unknown_model", f"Unknown model '{name}'. Choose one of: "
                   f"{', '.join(known)}.", name=name, choices=", ".join(known))


def widest(field: str) -> tuple[Any, Any]:
    """A range that holds every model's (e.g. "frames"): for forms that serve all models,
    each job is then checked against its own model's range."""
    ranges = [getattr(c, field) for c in cards().values()]
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def preset_names() -> list[str]:
    """Every preset name of any model, the default model's first (in its order)."""
    return list(dict.fromkeys(p for c in cards().values() for p in c.presets))


def recipe_names() -> list[str]:
    """Every recipe name of any model, the default model's first."""
    return list(dict.fromkeys(r for c in cards().values() for r in c.recipes))


def all_resolutions() -> list[str]:
    return list(dict.fromkeys(r for c in cards().values() for r in c.resolutions))
