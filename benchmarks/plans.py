"""Which rows a benchmark run makes, in which order.

The standard preset comes first and the stock pipeline opens and closes every run: the
second stock row shows how much the machine drifted while the engine rows ran (clocks, heat,
memory fragmentation), so that a speed-up is not an order effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.variants import VARIANTS


@dataclass(frozen=True)
class Item:
    variant: str
    preset: str
    batches: tuple[int, ...] = ()  # also time this many compatible jobs in one call, once each
    again: bool = False  # a repeat of an earlier row (the closing stock row)

    @property
    def label(self) -> str:
        return f"{self.variant} (again)" if self.again else self.variant


def _plan(first: list[tuple[str, str]], batches: dict[str, tuple[int, ...]] | None = None,
          ) -> tuple[Item, ...]:
    """`first` is the order of (variant, preset); stock on the first preset closes the run."""
    batches = batches or {}
    items = [Item(v, p, batches.get(v, ()) if p == first[0][1] else ()) for v, p in first]
    return (*items, Item("stock", first[0][1], again=True))


STANDARD = ("engine", "fast", "stock-bf16", "stock-other-seed", "dpm-solver",
            "cfg-truncation", "deepcache", "t-gate", "bf16", "fast-bf16", "fuse-qkv",
            "channels-last", "cudnn-attention")

PLANS: dict[str, tuple[Item, ...]] = {
    # One command of at most 9 minutes on an H100/H200: every variant on the standard preset.
    "standard": _plan([("stock", "standard"), *((v, "standard") for v in STANDARD)]),
    # The larger presets for stock, engine and the speed mode, and batching on the standard.
    "presets": _plan(
        [("stock", "high"), ("stock", "max"), ("engine", "standard"), ("engine", "high"),
         ("engine", "max"), ("fast", "standard"), ("fast", "high"), ("fast", "max")],
        batches={"engine": (2, 4), "fast": (2, 4)}),
    # Both models on the same GPU: I2VGen-XL's standard preset, Wan's first three (the
    # full-size Wan 2.2 TI2V-5B with random weights).
    "models": _plan([("stock", "standard"), ("engine", "standard"), ("wan", "wan-preview"),
                     ("wan", "wan-standard"), ("wan", "wan-high")]),
    # FastWan against Wan on one GPU, each photo to MP4 with its peak memory: FastWan at 480p
    # and 720p first (the goals: 5 s and 12 s), Wan --fast and stock Wan at 480p, stock Wan at
    # 720p last (about 2 minutes a video on an H200: the row a short run gives up first).
    # FastWan at 480p again closes it: the drift.
    "turbo": (Item("turbo", "turbo-standard"), Item("turbo", "turbo-max"),
              Item("wan-fast", "wan-standard"), Item("wan", "wan-standard"),
              Item("wan", "wan-high"), Item("turbo", "turbo-standard", again=True)),
    # torch.compile, warmed up only on the shapes this run uses. (The speed mode runs the
    # uncompiled UNet: engine/models/i2vgen_xl/step_cuts.py eager_unet.)
    "compile": _plan([("stock", "standard"), ("engine", "standard"), ("compile", "standard"),
                      ("compile-autotune", "standard")]),
    # The standard plan's path on a CPU with the tiny model, batching included: catches an
    # import or path mistake before any GPU time is spent. The rows that only change a
    # setting of the same runner (bf16, channels-last) are left out: bf16 is slow on a CPU.
    "dry-run": _plan([("stock", "standard"), *((v, "standard") for v in STANDARD
                                               if v not in ("bf16", "fast-bf16",
                                                            "channels-last")),
                      ("wan", "wan-standard"), ("wan-fast", "wan-standard"),
                      ("turbo", "turbo-standard")],
                     batches={"engine": (2,)}),
}

# Timed runs a row gets when --runs is not given: the turbo plan's stock Wan at 720p takes
# minutes a video, so one warm-up and one timed run each fit the 9 minutes.
PLAN_RUNS = {"turbo": 1, "dry-run": 1}


def custom_plan(variants: list[str], presets: list[str],
                batches: tuple[int, ...] = ()) -> tuple[Item, ...]:
    """Every variant on every preset (`i2vbot bench --variants ... --presets ...`), stock
    first; the speed-ups on the first preset only, as they compare with the engine row."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}: use {', '.join(VARIANTS)}")
    ordered = sorted(variants, key=lambda v: v != "stock")
    everywhere = {"stock", "engine", "fast"}
    pairs = [(v, p) for v in ordered for p in (presets if v in everywhere else presets[:1])]
    extra = {v: tuple(b for b in batches if b > 1) for v in ("engine", "fast")}
    if "stock" in variants and len(pairs) > 1:
        return _plan(pairs, extra)
    return tuple(Item(v, p, extra.get(v, ()) if p == presets[0] else ()) for v, p in pairs)
