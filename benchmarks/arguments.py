"""The benchmark's command-line options, shared by `python -m benchmarks.run` and
`i2vbot bench`. Light on purpose: building a parser must not import torch."""

from __future__ import annotations

import argparse
from pathlib import Path

PLAN_NAMES = ("standard", "presets", "models", "turbo", "compile", "dry-run")  # plans.py's


def add_arguments(p: argparse.ArgumentParser, default_out: Path | None = None) -> None:
    p.add_argument("--plan", choices=PLAN_NAMES, help="a prepared run (benchmarks/plans.py): "
                   "standard (every variant, standard preset), presets (high and max, "
                   "batching), models (I2VGen-XL and Wan side by side), turbo (FastWan at 480p "
                   "and 720p against Wan and Wan --fast), compile, dry-run (the standard plan "
                   "on a CPU, tiny models; --dry for another plan's)")
    p.add_argument("--variants", help="instead of a plan: comma-separated rows, e.g. "
                   "stock,engine,fast,bf16 (benchmarks/variants.py)")
    p.add_argument("--presets", default="standard", help="with --variants: presets to run")
    p.add_argument("--batches", default="1", help="with --variants: batch sizes timed for "
                   "engine and fast (videos per hour)")
    p.add_argument("--out", type=Path, default=default_out, required=default_out is None,
                   help="a folder (gets PLAN.md, PLAN.json, PLAN.log) or a .md file")
    p.add_argument("--model", help="synthetic (default on CUDA: full size, random weights), "
                   "tiny (default elsewhere) or a pipeline folder")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto", help="the engine's: auto, bf16, fp16, fp32")
    p.add_argument("--runs", type=int, help="timed runs per row (default 3; turbo and "
                   "dry runs 1)")
    p.add_argument("--dry", action="store_true", help="the plan on a CPU with the tiny "
                   "models at tiny shapes: checks the paths, measures nothing")
    p.add_argument("--warmups", type=int, default=1)
    p.add_argument("--budget-s", type=float,
                   help="seconds: rows that would end later are skipped or timed fewer times")
    p.add_argument("--models-dir", type=Path, default=Path("data/models"),
                   help="where the tiny model is built")
    p.add_argument("--seed", type=int, default=8888)
