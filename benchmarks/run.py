"""The speed benchmark: the stock diffusers pipeline and this engine side by side, in one
process, on the same random weights, row after row within a time budget.

A row that fails (out of memory, a compile error, "No available kernel", NaN frames) becomes
a row that says why, and the run goes on; a row that would not end before the deadline is
skipped or timed fewer times; the report and its JSON are rewritten after every row, so a run
killed at its time limit still leaves what it measured.

    python -m benchmarks.run --plan standard --out OUT_DIR --budget-s 480

benchmarks/gpu_run.sh wraps this for a bare GPU machine; `i2vbot bench` runs it too.
"""

from __future__ import annotations

import argparse
import gc
import logging
import shlex
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import torch

from benchmarks.arguments import add_arguments
from benchmarks.budget import Budget, Estimate, plan_weight
from benchmarks.flops import unet_flops
from benchmarks.machine import machine
from benchmarks.peak import gpu_peak
from benchmarks.plans import PLAN_RUNS, PLANS, Item, custom_plan
from benchmarks.quality import psnr
from benchmarks.report import Result, Row, write_results
from benchmarks.runners import EngineRunner, Runner, Timing, WanRunner
from benchmarks.shapes import CPU_SHAPES, DRY_SHAPES, Shape, preset_shape
from benchmarks.variants import VARIANTS, Variant
from engine.config import EngineConfig
from engine.loader import pick_device
from engine.models.i2vgen_xl.fast import STOCK, Shortcuts, StepKind

logger = logging.getLogger(__name__)

# Extra seconds a compiled row needs before its first video, for the budget.
COMPILE_SECONDS = {"default": 150.0, "max-autotune-no-cudagraphs": 420.0}


class TimeUp(BaseException):  # noqa: N818 - not an error: the run's time is over
    """SIGTERM from the time limit (`timeout`): stop measuring, keep what was measured."""


@dataclass(frozen=True)
class RunOptions:
    plan: tuple[Item, ...]
    out: Path  # the markdown report; the JSON beside it
    base: EngineConfig = field(default_factory=EngineConfig)  # model already chosen
    runs: int = 3
    warmups: int = 1
    seed: int = 8888  # the documentation example's
    budget_seconds: float | None = None
    shapes: dict[str, Shape] | None = None  # None: the presets on CUDA, CPU_SHAPES elsewhere
    command: str = "python -m benchmarks.run"


@dataclass
class Context:
    """What rows learn from earlier rows."""

    # The opening stock row of each preset, with its shape.
    stock: dict[str, tuple[Row, Shape]] = field(default_factory=dict)
    stock_frames: dict[str, np.ndarray] = field(default_factory=dict)
    flops: dict[tuple[Shape, StepKind], int] = field(default_factory=dict)
    stock_load: float = 0.0


def run_benchmark(options: RunOptions, progress: Callable[[str], None] = logger.info
                  ) -> Result:
    device = pick_device(options.base.device)
    cuda = device.type == "cuda"
    table = options.shapes or (None if cuda else CPU_SHAPES)
    presets = list(dict.fromkeys(item.preset for item in options.plan))
    shapes = {p: table[p] if table else preset_shape(p) for p in presets}
    result = Result(options.command, cuda, options.base.model, list(shapes.values()),
                    options.warmups, options.runs, options.budget_seconds)
    budget = Budget(options.budget_seconds)
    result.machine = machine(device)
    result.peak_tflops, result.peak_source = gpu_peak(device)
    progress(f"peak: {result.peak_tflops} TFLOP/s ({result.peak_source})")
    write_results(result, options.out)
    context = Context()
    current = "setup"
    try:
        for group in _groups(options.plan):
            current = group[0].label
            _run_group(group, shapes, options, result, context, budget, progress)
            write_results(result, options.out)
    except TimeUp:
        result.stopped = f"killed at the time limit (SIGTERM) during {current}"
        logger.warning(result.stopped)
    skipped = sum(r.status == "skipped" and r.note.startswith("time budget")
                  for r in result.rows)
    if skipped and not result.stopped:
        result.stopped = f"{skipped} row(s) skipped to end within the time budget"
    write_results(result, options.out)
    return result


def _groups(plan: tuple[Item, ...]) -> Iterator[list[Item]]:
    """Consecutive items of one variant share a loaded model."""
    group: list[Item] = []
    for item in plan:
        if group and (item.variant, item.again) != (group[0].variant, group[0].again):
            yield group
            group = []
        group.append(item)
    if group:
        yield group


def _run_group(group: list[Item], shapes: dict[str, Shape], options: RunOptions,
               result: Result, context: Context, budget: Budget,
               progress: Callable[[str], None]) -> None:
    variant = VARIANTS[group[0].variant]
    label = group[0].label
    if not variant.applies(options.base):
        for item in group:
            result.rows.append(Row(label, item.preset, "skipped",
                                   "the configuration already is this variant"))
        return
    runs = 0 if variant.calibration else options.runs
    reserve = _closing_reserve(group, options, context, shapes)
    first = _estimate(variant, options.base, shapes[group[0].preset], context)
    if first is not None and not budget.fits(first, options.warmups, runs, reserve):
        for item in group:
            result.rows.append(_skipped(label, item, budget, first, options, reserve))
        return
    progress(f"loading {label}")
    # A compiled row warms up on this group's shapes only, not on the engine's default list.
    base = replace(options.base, compile_warmup=tuple(
        (shapes[i.preset].width, shapes[i.preset].height, shapes[i.preset].frames)
        for i in group))
    try:
        runner = variant.runner(base)
    except Exception as exc:  # noqa: BLE001 - any failure is a row, the run goes on
        logger.exception("%s failed to load", label)
        result.rows += [Row(label, item.preset, "failed", f"load: {_why(exc)}")
                        for item in group]
        _free()
        return
    result.describe.setdefault(variant.name, runner.describe())
    try:
        for item in group:
            shape = shapes[item.preset]
            estimate = _estimate(variant, options.base, shape, context, loaded=True)
            fit = runs if estimate is None else budget.runs_that_fit(
                estimate, options.warmups, runs, reserve)
            if estimate is not None and not budget.fits(estimate, options.warmups, runs,
                                                        reserve):
                result.rows.append(_skipped(label, item, budget, estimate, options, reserve))
                continue
            progress(f"{label}: {item.preset} ({shape.label()}), {fit} timed run(s)")
            try:
                row = _measure(runner, variant, item, shape, fit, options, context, result)
                row.load_seconds = runner.load_seconds
            except Exception as exc:  # noqa: BLE001 - any failure is a row, the run goes on
                logger.exception("%s failed on %s", label, item.preset)
                row = Row(label, item.preset, "failed", _why(exc))
                _free()
            result.rows.append(row)
            write_results(result, options.out)
    finally:
        runner.close()
        del runner
        _free()


def _measure(runner: Runner, variant: Variant, item: Item, shape: Shape, runs: int,
             options: RunOptions, context: Context, result: Result) -> Row:
    """A warm-up (its frames are the ones compared), more warm-ups, then the timed runs; the
    row holds their medians."""
    seeds = [options.seed + (1 if variant.name == "stock-other-seed" else 0)]
    warm = runner.run(shape, seeds, same_draws=True)
    for _ in range(options.warmups - 1):
        runner.run(shape, seeds)
    timings = [runner.run(shape, seeds) for _ in range(runs)]
    frames = warm.frames[0]
    opening = variant.name == "stock" and not item.again
    if opening:
        context.stock_frames[item.preset] = frames
        context.stock_load = runner.load_seconds
    reference = context.stock_frames.get(item.preset)
    row = Row(item.label, item.preset, runs=len(timings))
    if reference is not None and not opening:
        row.psnr_db = psnr(frames, reference)
    if timings:
        row.seconds = _median(timings, lambda t: t.total)
        row.encoders = _median(timings, lambda t: t.encoders)
        row.denoising = _median(timings, lambda t: t.denoising)
        row.decode = _median(timings, lambda t: t.decode)
        mp4 = [t.mp4 for t in timings if t.mp4 is not None]
        row.mp4 = statistics.median(mp4) if mp4 else None
        row.peak_bytes = max((t.peak_bytes or 0) for t in timings) or None
        row.unet_calls = timings[0].unet_calls
    else:
        row.note = "calibration: one untimed run"
    row.unet_flops = _count_flops(runner, shape, context)
    if opening:
        context.stock[item.preset] = (row, shape)
    if variant.calibration:
        _calibrate(result, variant, row)
    if item.batches and isinstance(runner, EngineRunner) and row.seconds:
        row.per_hour = _throughput(runner, shape, item.batches, options.seed, row.seconds)
    return row


def _calibrate(result: Result, variant: Variant, row: Row) -> None:
    scale = result.scale
    if variant.stock_dtype is not None:
        result.scale = replace(scale, rounding_db=row.psnr_db)
    else:
        result.scale = replace(scale, unrelated_db=row.psnr_db)


def _throughput(runner: EngineRunner, shape: Shape, batches: tuple[int, ...], seed: int,
                seconds: float) -> dict[int, float]:
    """Videos per hour with several compatible jobs in one call; batch 1 is the row's
    median, larger batches one timed run each (after an untimed one when compiled: a new
    batch size recompiles)."""
    per_hour = {1: 3600 / seconds}
    compiled = runner.engine.config.compile_unet
    for size in batches:
        seeds = [seed + i for i in range(size)]
        if compiled:
            runner.run(shape, seeds)
        timing = runner.run(shape, seeds)
        per_hour[size] = 3600 * size / timing.total
    return per_hour


def _count_flops(runner: Runner, shape: Shape, context: Context) -> int | None:
    """UNet FLOPs of one video as this runner runs it (counted once per kind of step)."""
    shortcuts = STOCK
    if isinstance(runner, EngineRunner) and runner.fast:
        shortcuts = runner.engine.fast
    if isinstance(runner, WanRunner):
        return runner.count_flops(shape)
    unet = getattr(runner.unet, "_orig_mod", runner.unet)  # the eager model, not a compiled one
    try:
        flops, _ = unet_flops(unet, shortcuts, shape, shape.guidance > 1, context.flops)
    except Exception:  # noqa: BLE001 - a missing count must not cost the row
        logger.exception("could not count the UNet's FLOPs")
        return None
    return flops


def _shortcuts(variant: Variant, base: EngineConfig) -> Shortcuts:
    if not variant.fast or variant.engine is None:
        return STOCK
    fast = replace(base, **variant.engine).fast
    return fast if isinstance(fast, Shortcuts) else STOCK  # Wan's: estimated as stock


def _estimate(variant: Variant, base: EngineConfig, shape: Shape, context: Context,
              loaded: bool = False) -> Estimate | None:
    """Seconds a row is expected to take, scaled from the opening stock row of its preset
    (or of the first preset, by pixels x frames); None before any stock row ran."""
    if not context.stock:
        return None
    ref, ref_shape = context.stock.get(shape.preset) or next(iter(context.stock.values()))
    if ref.seconds is None or ref.denoising is None:
        return None
    per_unit = ref.denoising / max(plan_weight(STOCK.plan(ref_shape.steps)), 1e-9)
    shortcuts = _shortcuts(variant, base)
    work = plan_weight(shortcuts.plan(shortcuts.steps(shape.steps)))
    size = _pixels(shape) / _pixels(ref_shape)
    per_video = size * (ref.seconds - ref.denoising + per_unit * work)
    load = 0.0 if loaded else context.stock_load
    config = replace(base, **(variant.engine or {}))
    if variant.engine is not None and config.compile_unet:
        load += COMPILE_SECONDS.get(config.compile_mode, 300.0)
    return Estimate(load=load, per_video=per_video)


def _pixels(shape: Shape) -> float:
    return float(shape.width * shape.height * shape.frames)


def _closing_reserve(group: list[Item], options: RunOptions, context: Context,
                     shapes: dict[str, Shape]) -> float:
    """Seconds kept for the closing stock row while other rows run."""
    closing = [i for i in options.plan if i.again]
    if not closing or group[0].again:
        return 0.0
    estimate = _estimate(VARIANTS["stock"], options.base, shapes[closing[0].preset], context)
    return 0.0 if estimate is None else estimate.seconds(options.warmups + options.runs)


def _skipped(label: str, item: Item, budget: Budget, estimate: Estimate | None,
             options: RunOptions, reserve: float) -> Row:
    need = estimate.seconds(options.warmups + 1) if estimate else 0.0
    return Row(label, item.preset, "skipped",
               f"time budget: {max(budget.left(), 0):.0f} s left ({reserve:.0f} s of it kept "
               f"for the closing stock row), needs about {need:.0f} s")


def _median(timings: list[Timing], part: Callable[[Timing], float]) -> float:
    return statistics.median(part(t) for t in timings)


def _why(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:300]}"


def _free() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _on_sigterm(signum: int, frame: FrameType | None) -> Any:
    raise TimeUp


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return p


def options_from(args: argparse.Namespace, argv: list[str],
                 command: str = "python -m benchmarks.run") -> RunOptions:
    if args.plan and args.variants:
        raise ValueError("give either --plan or --variants")
    if not args.variants:
        args.plan = args.plan or "standard"
    presets = args.presets.split(",")
    if args.plan:
        plan = PLANS[args.plan]
    else:
        batches = tuple(int(b) for b in args.batches.split(","))
        plan = custom_plan(args.variants.split(","), presets, batches)
    unknown = [i.preset for i in plan if i.preset not in CPU_SHAPES]
    if unknown:
        raise ValueError(f"unknown preset(s) {sorted(set(unknown))}: use "
                         f"{', '.join(CPU_SHAPES)}")
    cuda = pick_device(args.device).type == "cuda"
    dry = args.plan == "dry-run" or args.dry
    model = args.model or ("synthetic" if cuda and not dry else "tiny")
    base = EngineConfig(model=model, device=args.device, dtype=args.dtype,
                        models_dir=args.models_dir)
    out = args.out if args.out.suffix == ".md" else args.out / f"{args.plan or 'bench'}.md"
    runs = args.runs or (1 if dry else PLAN_RUNS.get(args.plan or "", 3))
    return RunOptions(
        plan=plan, out=out, base=base, runs=runs,
        warmups=args.warmups, seed=args.seed, budget_seconds=args.budget_s,
        shapes=DRY_SHAPES if dry else None, command=f"{command} {shlex.join(argv)}")


def log_to(path: Path) -> list[logging.Handler]:
    """Everything this run logs goes to the console and to `path`, line by line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    form = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.FileHandler(path, mode="w", encoding="utf-8"),
                                       logging.StreamHandler(sys.stderr)]
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in handlers:
        handler.setFormatter(form)
        root.addHandler(handler)
    for noisy in ("diffusers", "transformers", "httpx", "torch._inductor"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handlers


def run_from_args(args: argparse.Namespace, argv: list[str],
                  command: str = "python -m benchmarks.run") -> int:
    """Run what the parsed options say; the report, its JSON and its log go to --out."""
    try:
        options = options_from(args, argv, command)
    except ValueError as exc:
        print(f"benchmark: {exc}", file=sys.stderr)
        return 2
    handlers = log_to(options.out.with_suffix(".log"))
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    start = time.monotonic()
    try:
        result = run_benchmark(options)
        logger.info("done in %.0f s: %s (%d rows)", time.monotonic() - start, options.out,
                    len(result.rows))
    finally:
        signal.signal(signal.SIGTERM, previous)
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
    print(f"Report: {options.out}\nRaw numbers: {options.out.with_suffix('.json')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return run_from_args(parser().parse_args(argv), argv)


if __name__ == "__main__":
    sys.exit(main())
