"""`i2vbot bench`: the speed benchmark from the command line (see benchmarks/RESULTS.md).

It needs no settings, tokens or database: only a model (synthetic on CUDA, tiny elsewhere).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path


def add_bench_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    b = sub.add_parser("bench", help="time the stock pipeline and this engine side by side")
    b.add_argument("--model", help="tiny, synthetic or a pipeline folder (default: synthetic "
                   "on CUDA, tiny otherwise)")
    b.add_argument("--presets", default="standard,high,max")
    b.add_argument("--variants", help="comma-separated rows, e.g. stock,engine,bf16,compile "
                   "(default: all that apply to the device)")
    b.add_argument("--runs", type=int, default=3, help="timed runs per row (median)")
    b.add_argument("--warmups", type=int, default=1)
    b.add_argument("--batches", default="1,2,4", help="batch sizes for videos per hour")
    b.add_argument("--out", type=Path, default=Path("benchmarks/RESULTS.md"))
    b.add_argument("--models-dir", type=Path, default=Path("data/models"))
    b.add_argument("--device", default="auto")
    b.add_argument("--dtype", default="auto")
    b.add_argument("--compile", action="store_true", help="engine row: torch.compile the UNet")
    b.add_argument("--channels-last", action="store_true")
    b.add_argument("--fuse-qkv", action="store_true")
    b.add_argument("--attention", default="sdpa", help="sdpa, flash, cudnn, efficient or math")


def bench(args: argparse.Namespace, argv: list[str]) -> int:
    """The speed benchmark; needs no settings, tokens or database."""
    from engine.benchmark import BenchOptions, run_benchmark
    from engine.config import EngineConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("diffusers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    base = EngineConfig(device=args.device, dtype=args.dtype, models_dir=args.models_dir,
                        compile_unet=args.compile, channels_last=args.channels_last,
                        fuse_qkv=args.fuse_qkv, attention=args.attention)
    options = BenchOptions(
        model=args.model, base=base, presets=tuple(args.presets.split(",")),
        variants=tuple(args.variants.split(",")) if args.variants else None, runs=args.runs,
        warmups=args.warmups, batches=tuple(int(b) for b in args.batches.split(",")),
        out=args.out, command=shlex.join(["i2vbot", *argv]))
    try:
        run_benchmark(options, progress=lambda line: print(line, file=sys.stderr))
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    print(f"Report: {args.out}\nRaw numbers: {args.out.with_suffix('.json')}")
    return 0
