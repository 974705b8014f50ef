"""The cost of each mode, measured without a GPU: benchmarks/RESULTS.md.

1. FLOPs per video of the stock path, each compute cut and the speed mode, counted with
   FlopCounterMode on the full-size I2VGen-XL on the meta device, at the real shapes.
2. The wall-clock ratio of stock to each mode on this machine's CPU, at a small shape but
   with the full-size architecture (random weights), all in one run: stock first and last.

    python -m benchmarks.cpu_costs --out benchmarks/RESULTS.md [--no-timing]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import torch

from benchmarks.flops import VideoFlops, video_flops
from benchmarks.machine import cpu_name
from benchmarks.runners import EngineRunner
from benchmarks.shapes import Shape, preset_shape
from engine.config import EngineConfig
from engine.models.i2vgen_xl.card import CARD
from engine.models.i2vgen_xl.fast import CUTS, FAST, MODES, STOCK, Shortcuts
from engine.models.i2vgen_xl.tiny import synthetic_components

logger = logging.getLogger(__name__)

# The standard preset: 512p as a square and as the 3:2 shape a landscape photo gets.
FLOP_SHAPES = (preset_shape("standard"), preset_shape("standard", 640 / 384))
# Small enough for a CPU, every step of the standard preset kept (the cuts are fractions of
# the steps), the full-size model.
CPU_SHAPE = Shape("standard", 64, 64, 8, 8, 50, 9.0)
GOAL = 0.5  # the speed mode at most half of stock's FLOPs per standard video


@dataclass(frozen=True)
class Timed:
    mode: str
    seconds: float  # photo to frames (no MP4: the same for every mode)
    denoising: float


def flop_tables() -> list[str]:
    parts = synthetic_components("meta")
    out = ["## FLOPs per standard video", "",
           "Counted with torch's FlopCounterMode on the full-size I2VGen-XL (UNet 1.42 B "
           "parameters, SD 2.1 VAE, OpenCLIP ViT-H text and image encoders) on the meta device, "
           "at the real shapes; every UNet call runs through the engine's own step cuts. "
           "Matrix products, convolutions and attention; 2 FLOPs per multiply-add. Encoders: "
           "both prompts, the CLIP image embedding and the photo's VAE latent.", ""]
    for shape in FLOP_SHAPES:
        counts = video_flops(parts, MODES, shape)
        stock = counts["stock"].total
        out += [f"{shape.width}x{shape.height}, {shape.frames} frames, {shape.steps} steps "
                f"(DDIM), guidance {shape.guidance:g}:", "",
                "| mode | what it runs | UNet calls | TFLOP/video | UNet | encoders | "
                "VAE decode | vs stock |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        out += [_flop_row(name, counts[name], stock) for name in MODES]
        out.append("")
    ratio = {p: _fast_ratio(parts, preset_shape(p)) for p in CARD.presets}
    out += ["The speed mode's share of stock's FLOPs per video, by preset (for its price):", "",
            "| preset | shape | fast / stock |", "|---|---|---:|"]
    out += [f"| {p} | {preset_shape(p).label()} | {r:.3f} |" for p, r in ratio.items()]
    standard = ratio["standard"]
    out += ["", f"Goal (fast at most {GOAL:g} of stock per standard video): "
            f"{'met' if standard <= GOAL else 'not met'}, {standard:.3f}.", ""]
    return out


def _flop_row(name: str, flops: VideoFlops, stock: int) -> str:
    return (f"| {name} | {_what(MODES[name])} | {flops.unet_calls} | {flops.total / 1e12:.0f} | "
            f"{flops.unet / 1e12:.0f} | {flops.encoders / 1e12:.1f} | "
            f"{flops.decode / 1e12:.1f} | {flops.total / stock:.3f} |")


def _fast_ratio(parts: dict[str, object], shape: Shape) -> float:
    counts = video_flops(parts, {"stock": STOCK, "fast": FAST}, shape)
    return counts["fast"].total / counts["stock"].total


def _what(s: Shortcuts) -> str:
    if s == STOCK:
        return "DDIM, CFG on every step, full UNet"
    bits = []
    if s.solver != "ddim":
        bits.append(f"DPM-Solver++ 2M at {s.step_fraction:g} x the steps")
    if s.guided_fraction < 1:
        bits.append(f"CFG on the first {s.guided_fraction:.0%} of steps")
    if s.gate_fraction is not None:
        bits.append(f"T-GATE at {s.gate_fraction:.0%} of steps (then no CFG)")
    if s.deep_cache_interval > 1:
        bits.append(f"DeepCache, full UNet every {s.deep_cache_interval} steps")
    return "; ".join(bits)


def cpu_timings(threads: int) -> list[Timed]:
    """Every mode on one engine (the speed mode it runs is swapped between rows), stock first
    and last; one untimed warm-up first."""
    torch.set_num_threads(threads)
    runner = EngineRunner("engine", EngineConfig(model="synthetic", device="cpu"))
    runner.fast = True
    order = ["stock", *CUTS, "fast", "stock"]
    timed: list[Timed] = []
    warm = replace(CPU_SHAPE, steps=2)
    runner.engine.config = replace(runner.engine.config, fast=STOCK)
    runner.run(warm, [1])
    for name in order:
        runner.engine.config = replace(runner.engine.config, fast=MODES[name])
        start = time.perf_counter()
        timing = runner.run(CPU_SHAPE, [8888])
        logger.info("%s: %.1f s (denoising %.1f s), wall %.1f s", name, timing.total - (
            timing.mp4 or 0), timing.denoising, time.perf_counter() - start)
        timed.append(Timed(name, timing.total - (timing.mp4 or 0), timing.denoising))
    return timed


def timing_table(timed: list[Timed], threads: int) -> list[str]:
    parts = synthetic_components("meta")
    small = video_flops(parts, MODES, CPU_SHAPE)
    stock = [t for t in timed if t.mode == "stock"]
    base = statistics.mean(t.seconds for t in stock)
    base_denoise = statistics.mean(t.denoising for t in stock)
    drift = abs(stock[-1].seconds - stock[0].seconds) / base
    out = ["## Wall clock on this CPU", "",
           f"The full-size architecture with random weights on {cpu_name()}, {threads} torch "
           f"threads, at {CPU_SHAPE.label()}, guidance {CPU_SHAPE.guidance:g}: photo to uint8 "
           "frames through the engine (no MP4), one video per mode, all in one run. Stock ran "
           f"first and last ({stock[0].seconds:.0f} s and {stock[-1].seconds:.0f} s: "
           f"{drift:.0%} drift, the noise floor of this table; the ratios use their mean). At "
           "this shape a UNet call is dominated by reading 5.7 GB of weights, not by "
           "arithmetic, so halving the batch saves less time than FLOPs; the FLOP ratio at the "
           "same shape is beside it.", "",
           "| mode | seconds/video | denoising | stock / mode (video) | stock / mode "
           "(denoising) | FLOP ratio stock / mode (this shape) |",
           "|---|---:|---:|---:|---:|---:|"]
    for i, t in enumerate(timed):
        name = "stock (again)" if t.mode == "stock" and i else t.mode
        flops = small["stock"].total / small[t.mode].total
        out.append(f"| {name} | {t.seconds:.0f} | {t.denoising:.0f} | {base / t.seconds:.2f}x | "
                   f"{base_denoise / t.denoising:.2f}x | {flops:.2f}x |")
    return [*out, ""]


def report(flops: list[str], timing: list[str]) -> str:
    head = ["# Cost of each mode, measured without a GPU", "",
            f"- Machine: {cpu_name()}, no GPU; torch {torch.__version__}",
            "- Command: `python -m benchmarks.cpu_costs --out benchmarks/RESULTS.md`",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "- The GPU table (seconds per video on an H100/H200) comes from "
            "benchmarks/gpu_run.sh; see benchmarks/README.md.", ""]
    return "\n".join([*head, *flops, *timing])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.cpu_costs", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--no-timing", action="store_true", help="the FLOP tables only (seconds)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("diffusers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    flops = flop_tables()
    args.out.write_text(report(flops, []), encoding="utf-8")  # the FLOPs stand on their own
    if not args.no_timing:
        timing = timing_table(cpu_timings(args.threads), args.threads)
        args.out.write_text(report(flops, timing), encoding="utf-8")
    print(f"Report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
