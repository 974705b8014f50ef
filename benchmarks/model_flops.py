"""FLOPs per video of every model's presets, side by side: benchmarks/MODELS.md.

Counted with torch's FlopCounterMode on the released architectures with no weights (the meta
device: shapes only, seconds on a laptop), at each preset's real shape (square, at its pixel
budget). I2VGen-XL goes through benchmarks/flops.py; Wan 2.2 TI2V-5B's parts are counted
here the way its pipeline calls them: UMT5 on both 512-token prompts, the VAE encode of the
photo, the transformer twice per step (prompt and negative prompt, as separate calls; with
`--fast` through diffusers' cache hooks, the negative prompt on the first half only), the
VAE decode of the whole clip. FastWan ("turbo") is Wan's architecture run three times
without guidance. The last column is what each card's `cost_factor` is set from: each
model's FLOPs per unit of pixels x frames x steps, over I2VGen-XL's; Wan's `fast_share` is
its speed mode's FLOPs over stock's. The CPU wall clock beside them is benchmarks/wan_cpu.py.

    python -m benchmarks.model_flops --out benchmarks/MODELS.md [--no-timing]
"""

from __future__ import annotations

import argparse
import logging
import platform
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from benchmarks.flops import video_flops
from benchmarks.shapes import Shape
from benchmarks.wan_flops import wan_parts, wan_video_flops
from engine.models.i2vgen_xl.fast import STOCK
from engine.models.i2vgen_xl.tiny import synthetic_components
from engine.models.wan.fast import FAST as WAN_FAST
from engine.spec.cards import ModelCard, cards
from engine.spec.params import size_for


def shape_of(model: ModelCard, preset: str) -> Shape:
    p = model.presets[preset]
    width, height = size_for(p.resolution, 1.0, model)
    return Shape(preset, width, height, p.frames, p.fps, p.steps, p.guidance)


@dataclass(frozen=True)
class Count:
    """FLOPs of one video of one model, mode and preset."""

    model: str
    mode: str  # "stock", or "fast" (Wan's speed mode)
    preset: str
    shape: Shape
    encoders: int
    denoiser: int
    decode: int

    @property
    def total(self) -> int:
        return self.encoders + self.denoiser + self.decode


def rows(wan: dict[str, Any] | None = None) -> list[Count]:
    """Every preset of every model as it runs, and Wan's presets with `--fast`."""
    out = []
    i2v = synthetic_components("meta")
    wan = wan or wan_parts()
    for model in cards().values():
        for preset in model.presets:
            shape = shape_of(model, preset)
            if model.name == "i2vgen-xl":
                f = video_flops(i2v, {"stock": STOCK}, shape)["stock"]
                out.append(Count(model.name, "stock", preset, shape, f.encoders, f.unet,
                                 f.decode))
                continue
            out.append(Count(model.name, "stock", preset, shape,
                             *wan_video_flops(wan, shape)))
            if model.fast:
                out.append(Count(model.name, "fast", preset, shape,
                                 *wan_video_flops(wan, shape, WAN_FAST)))
    return out


def work(shape: Shape) -> int:
    return shape.width * shape.height * shape.frames * shape.steps


def cost_factors(found: list[Count]) -> dict[str, float]:
    """Each model's stock FLOPs per pixel-frame-step over I2VGen-XL's, mean of its presets."""
    per_work: dict[str, list[float]] = {}
    for c in found:
        if c.mode == "stock":
            per_work.setdefault(c.model, []).append(c.total / work(c.shape))
    base = sum(per_work["i2vgen-xl"]) / len(per_work["i2vgen-xl"])
    return {m: sum(v) / len(v) / base for m, v in per_work.items()}


def fast_shares(found: list[Count]) -> dict[str, float]:
    """(model, preset) -> the speed mode's FLOPs per video over stock's."""
    stock = {(c.model, c.preset): c.total for c in found if c.mode == "stock"}
    return {f"{c.model} {c.preset}": c.total / stock[c.model, c.preset]
            for c in found if c.mode == "fast"}


def table(found: list[Count]) -> list[str]:
    factors = cost_factors(found)
    base = {c.preset: c.total / work(c.shape) for c in found
            if c.model == "i2vgen-xl" and c.mode == "stock"}
    mean = sum(base.values()) / len(base)
    lines = ["| model | mode | preset | shape | encoders TFLOP | denoiser TFLOP | "
             "VAE decode TFLOP | total TFLOP | FLOPs per pixel-frame-step vs I2VGen-XL |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for c in found:
        lines.append(f"| {c.model} | {c.mode} | {c.preset} | {c.shape.label()} | "
                     f"{c.encoders / 1e12:.1f} | {c.denoiser / 1e12:.1f} | "
                     f"{c.decode / 1e12:.1f} | {c.total / 1e12:.1f} | "
                     f"{c.total / work(c.shape) / mean:.2f} |")
    shares = fast_shares(found)
    wan_shares = [v for k, v in shares.items() if k.startswith("wan ")]
    lines += ["", "Mean over the presets of each model's stock rows, the cost factor: "
              + ", ".join(f"{m} {f:.2f}" for m, f in factors.items()) + "."]
    if wan_shares:
        lines += ["", "Wan `--fast` per video, over stock Wan at the same preset: "
                  + ", ".join(f"{k.split()[1]} {v:.3f}" for k, v in shares.items()
                              if k.startswith("wan ")) + f"; mean {mean_of(wan_shares):.3f} "
                  "(the card's fast_share, rounded up). Goal: at most 0.5 at every preset: "
                  + ("met." if max(wan_shares) <= 0.5 else "not met.")]
    return lines


def mean_of(values: list[float]) -> float:
    return sum(values) / len(values)


def turbo_table(wan: dict[str, Any], found: list[Count]) -> list[str]:
    """FastWan's presets against stock Wan at the same shape with Wan's own 720p setting (50
    steps, guidance 5: the model card's, and what FastVideo's 157 s denoising figure ran)."""
    lines = ["| turbo preset | shape | turbo denoiser TFLOP | VAE decode TFLOP | turbo total "
             "| stock Wan, 50 steps: denoiser | stock Wan total | turbo / stock Wan | "
             "decode share of turbo |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in found:
        if c.model != "turbo":
            continue
        stock = replace(c.shape, steps=50, guidance=5.0)
        enc, den, dec = wan_video_flops(wan, stock)
        lines.append(f"| {c.preset} | {c.shape.width}x{c.shape.height}, {c.shape.frames} "
                     f"frames | {c.denoiser / 1e12:.0f} | {c.decode / 1e12:.0f} | "
                     f"{c.total / 1e12:.0f} | {den / 1e12:.0f} | {(enc + den + dec) / 1e12:.0f} "
                     f"| {c.total / (enc + den + dec):.3f} | {c.decode / c.total:.0%} |")
    return lines


def report(found: list[Count], turbo: list[str], timing: list[str]) -> str:
    lines = ["# FLOPs per video, by model and preset", "",
             f"- Counted on {platform.machine()} with torch {torch.__version__}, "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, by `python -m benchmarks.model_flops`",
             "- Meta device (shapes only): the released architectures, square videos at each "
             "preset's pixel budget; matrix products, convolutions and attention, 2 FLOPs per "
             "multiply-add. Wan `--fast` runs diffusers' TaylorSeer hooks on the meta "
             "transformer, call by call as the pipeline makes them (engine/models/wan/fast.py)"
             "; turbo is FastWan 2.2 (Wan's architecture, three steps, one call each).", "",
             *table(found), "", "## FastWan (turbo) against stock Wan", "",
             "Denoising falls to three unguided calls; the VAE decode, the same as Wan's, "
             "becomes the largest part of a video. A tiny decoder loadable through diffusers "
             "(none is today for Wan 2.2's VAE; TAEHV's taew2_2 is a separate .pth) would save "
             "at most the decode share below, less its own cost.", "", *turbo, ""]
    return "\n".join([*lines, *timing]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/MODELS.md"))
    parser.add_argument("--no-timing", action="store_true",
                        help="the FLOP tables only (minutes), not the CPU wall clock (an hour)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("diffusers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    wan = wan_parts()
    found = rows(wan)
    turbo = turbo_table(wan, found)
    args.out.write_text(report(found, turbo, []), encoding="utf-8")  # FLOPs stand alone
    if not args.no_timing:
        from benchmarks.wan_cpu import timing_table, wan_cpu_timings

        timing = timing_table(wan_cpu_timings(args.threads), args.threads, wan)
        args.out.write_text(report(found, turbo, timing), encoding="utf-8")
    print(args.out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
