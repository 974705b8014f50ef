"""`i2vbot bench`: the speed benchmark from the command line (benchmarks/README.md).

It needs no settings, tokens or database: only a model (synthetic on CUDA, tiny elsewhere).
The options are `python -m benchmarks.run`'s; the benchmark is imported only when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchmarks.arguments import add_arguments


def add_bench_parser(sub: argparse._SubParsersAction[Any]) -> None:
    b = sub.add_parser("bench", help="time the stock pipeline and this engine side by side")
    add_arguments(b, default_out=Path("data/bench"))


def bench(args: argparse.Namespace, argv: list[str]) -> int:
    """The speed benchmark; needs no settings, tokens or database."""
    from benchmarks.run import run_from_args

    return run_from_args(args, argv[1:] if argv[:1] == ["bench"] else argv,
                         command="i2vbot bench")
