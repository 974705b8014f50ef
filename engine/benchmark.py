"""The speed benchmark: diffusers' stock I2VGen-XL pipeline and this engine side by side, in
one process, on the same random weights.

On CUDA it builds the full-size architecture with random weights ("synthetic": compute does
not depend on weight values) and runs the real presets. Without CUDA it runs the tiny model
at scaled-down shapes, and its report says plainly that those are not GPU figures.
`i2vbot bench` is the command; engine/bench_report.py writes the results.
"""

from __future__ import annotations

import gc
import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from engine.bench_report import Result, Row, write_results
from engine.bench_runners import EngineRunner, Shape, StockRunner, Timing, psnr, unet_step_flops
from engine.config import EngineConfig
from engine.errors import InternalError
from engine.loader import pick_device, resolve_source
from engine.params import PRESETS, size_for

logger = logging.getLogger(__name__)

# Scaled-down stand-ins for the presets on the CPU with the tiny model: same order of cost.
CPU_SHAPES = {
    "preview": Shape("preview", 128, 128, 8, 8, 2, 9.0),
    "standard": Shape("standard", 128, 128, 8, 8, 4, 9.0),
    "high": Shape("high", 192, 192, 8, 12, 6, 9.0),
    "max": Shape("max", 256, 256, 8, 12, 8, 9.0),
}
# Engine rows besides "engine" (as configured): each switches on one speed-up.
ABLATIONS: dict[str, dict[str, object]] = {
    "bf16": dict(dtype="bf16"),
    "channels-last": dict(channels_last=True),
    "fuse-qkv": dict(fuse_qkv=True),
    "compile": dict(compile_unet=True),
    "cudnn-attention": dict(attention="cudnn"),
    "all": dict(dtype="bf16", channels_last=True, fuse_qkv=True, compile_unet=True),
}
GPU_VARIANTS = ("stock", "engine", *ABLATIONS)
# On the CPU: bf16 is emulated (slow, says nothing), cuDNN does not exist, and compiling
# takes minutes on a small shared CPU; name them with --variants to run them anyway.
CPU_VARIANTS = ("stock", "engine", "channels-last", "fuse-qkv")
FULL_VARIANTS = ("stock", "engine")  # run on every preset; the others on the first only


@dataclass(frozen=True)
class BenchOptions:
    model: str | None = None  # None: "synthetic" on CUDA, "tiny" elsewhere
    base: EngineConfig = field(default_factory=EngineConfig)  # the engine "as configured"
    presets: tuple[str, ...] = ("standard", "high", "max")
    variants: tuple[str, ...] | None = None  # None: GPU_VARIANTS or CPU_VARIANTS
    runs: int = 3
    warmups: int = 1
    batches: tuple[int, ...] = (1, 2, 4)
    shapes: dict[str, Shape] | None = None  # override the preset shapes (tests)
    seed: int = 8888  # the documentation example's
    out: Path = Path("benchmarks/RESULTS.md")
    command: str = "i2vbot bench"


def gpu_shape(preset: str) -> Shape:
    p = PRESETS[preset]
    width, height = size_for(p.resolution, 1.0)
    return Shape(preset, width, height, p.frames, p.fps, p.steps, p.guidance)


def plan(options: BenchOptions, cuda: bool) -> tuple[EngineConfig, list[Shape], list[str]]:
    model = options.model or ("synthetic" if cuda else "tiny")
    base = replace(options.base, model=model)
    unknown = [p for p in options.presets if p not in PRESETS]
    if unknown:
        raise ValueError(f"unknown preset(s) {unknown}: use {', '.join(PRESETS)}")
    table = options.shapes or (None if cuda else CPU_SHAPES)
    shapes = [table[p] if table else gpu_shape(p) for p in options.presets]
    names = list(options.variants or (GPU_VARIANTS if cuda else CPU_VARIANTS))
    unknown = [v for v in names if v not in ("stock", "engine", *ABLATIONS)]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}: use stock, engine, "
                         f"{', '.join(ABLATIONS)}")
    # A speed-up the configuration already has would only repeat the "engine" row.
    names = [v for v in names if v not in ABLATIONS or replace(base, **ABLATIONS[v]) != base]
    return base, shapes, names


def run_benchmark(options: BenchOptions,
                  progress: Callable[[str], None] = logger.info) -> Result:
    device = pick_device(options.base.device)
    cuda = device.type == "cuda"
    base, shapes, names = plan(options, cuda)
    folder, _ = resolve_source(base)  # builds "tiny"/"synthetic" once
    result = Result(options.command, cuda, base.model, folder, shapes, options.runs,
                    options.warmups, list(options.batches))
    flops: dict[str, int] = {}
    stock_frames: dict[str, object] = {}
    for name in names:
        progress(f"loading {name}")
        if name == "stock":
            runner: StockRunner | EngineRunner = StockRunner(folder, device)
        else:
            config = replace(base, **ABLATIONS.get(name, {}))
            if config.compile_unet:
                config = replace(config, compile_warmup=tuple(
                    (s.width, s.height, s.frames) for s in shapes))
            runner = EngineRunner(name, config)
        result.describe[name] = runner.describe()
        for shape in shapes if name in FULL_VARIANTS else shapes[:1]:
            progress(f"{name}: {shape.preset} ({shape.label()})")
            try:
                row = measure(runner, shape, options, flops, stock_frames)
                if name == "engine":
                    row.per_hour = throughput(runner, shape, options, row)
                result.rows.append(row)
            except (InternalError, RuntimeError) as exc:  # NaN frames, OOM, a compile error
                # One failing row must not cost the rest of a long GPU run.
                logger.exception("%s failed on %s", name, shape.preset)
                result.failures.append(f"{name} on {shape.preset}: {exc}")
                if cuda:
                    torch.cuda.empty_cache()
            write_results(result, options.out)  # a cut-off run still leaves what it measured
        del runner
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
    return result


def measure(runner: StockRunner | EngineRunner, shape: Shape, options: BenchOptions,
            flops: dict[str, int], stock_frames: dict[str, object]) -> Row:
    """Warm-up runs (the first one also gives the frames compared and the FLOPs), then the
    timed runs; the row holds their medians."""
    seeds = [options.seed]
    warm, clock = runner.run(shape, seeds, same_draws=True,
                             keep_inputs=shape.preset not in flops)
    if shape.preset not in flops:
        flops[shape.preset] = unet_step_flops(runner.unet, clock)
    del clock
    for _ in range(options.warmups - 1):
        runner.run(shape, seeds)
    timings = [runner.run(shape, seeds)[0] for _ in range(max(1, options.runs))]
    if runner.name == "stock":
        stock_frames[shape.preset] = warm.frames[0]
    reference = stock_frames.get(shape.preset)
    row = Row(variant=runner.name, preset=shape.preset,
              seconds=median(timings, lambda t: t.total),
              encoders=median(timings, lambda t: t.encoders),
              denoising=median(timings, lambda t: t.denoising),
              decode=median(timings, lambda t: t.decode),
              mp4=median(timings, lambda t: t.mp4),
              peak_bytes=max((t.peak_bytes or 0) for t in timings) or None,
              step_flops=flops[shape.preset], unet_calls=timings[0].unet_calls,
              psnr_db=None if reference is None else psnr(warm.frames[0], reference))  # type: ignore[arg-type]
    row.load_seconds = getattr(runner, "load_seconds", None)
    return row


def throughput(runner: StockRunner | EngineRunner, shape: Shape, options: BenchOptions,
               row: Row) -> dict[int, float]:
    """Videos per hour with 1, 2, 4... compatible jobs in one call. Batch 1 is the row's
    median; larger batches are timed once (after a warm-up only when compiling, because a
    new batch size recompiles)."""
    per_hour: dict[int, float] = {}
    compiled = isinstance(runner, EngineRunner) and runner.engine.config.compile_unet
    for size in options.batches:
        if size == 1:
            per_hour[1] = 3600 / row.seconds
            continue
        seeds = [options.seed + i for i in range(size)]
        if compiled:
            runner.run(shape, seeds)
        timing = runner.run(shape, seeds)[0]
        per_hour[size] = 3600 * size / timing.total
    return per_hour


def median(timings: list[Timing], part: Callable[[Timing], float]) -> float:
    return statistics.median(part(t) for t in timings)
