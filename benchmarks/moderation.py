"""What moderation costs on a CPU: benchmarks/MODERATION.md.

The default classifier's architecture (ViT-Base/16 at 224x224, as Falconsai/
nsfw_image_detection) with random weights ("synthetic": the compute does not depend on the
weights' values), through transformers' image-classification pipeline exactly as the bot
runs it (engine/moderation/classifier.py). Side by side in one run, each after two warm-up
calls, at all the machine's threads and at one:
- a photo as Telegram sends it (1280x960 JPEG), the bot's path;
- a phone's photo sent as a file (4032x3024 JPEG), the bot's path (decoded scaled down,
  libjpeg's DCT scaling), and decoded in full for comparison;
- a video's check: 4 frames of a 640x384 clip in one batch, on the worker.

    python -m benchmarks.moderation [--runs 10] [--out benchmarks/MODERATION.md]

(`--model` takes another classifier: a folder, or `tiny` for a quick check of the script.)
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.machine import cpu_name
from engine.images import load_photo
from engine.moderation.classifier import ClassifierConfig, PictureClassifier
from engine.spec.moderation import DEFAULT, FRAMES_CHECKED, Thresholds


def photo(width: int, height: int) -> bytes:
    """A JPEG with a photo's detail (a gradient under fine noise), quality 90."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    pixels = (x * 0.6 + y * 0.4 + rng.normal(0, 12, (height, width, 3))).clip(0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def timed(call: Callable[[], object], runs: int) -> list[float]:
    for _ in range(2):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--model", default="synthetic")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/MODERATION.md"))
    args = parser.parse_args(argv)

    load_average = os.getloadavg()[0]
    start = time.perf_counter()
    classifier = PictureClassifier(ClassifierConfig(
        model=args.model, models_dir=args.out.parent / ".moderation-models"))
    classifier.load()
    load_s = time.perf_counter() - start
    limits = Thresholds()
    chat, phone = photo(1280, 960), photo(4032, 3024)
    frames = np.stack([np.asarray(Image.open(io.BytesIO(photo(640, 384))))] * 16)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("photo 1280x960 JPEG (Telegram's), the bot's path",
         lambda: classifier.check_photo(chat, limits)),
        ("photo 4032x3024 JPEG (a phone's file), the bot's path",
         lambda: classifier.check_photo(phone, limits)),
        ("photo 4032x3024 JPEG, decoded in full",
         lambda: limits.judge("photo", classifier.scores([load_photo(phone)]))),
        (f"video: {FRAMES_CHECKED} frames of a 640x384 clip, one batch",
         lambda: classifier.check_frames(frames, limits)),
    ]
    cores = torch.get_num_threads()
    rows = []
    for name, call in cases:
        cells = []
        for threads in (cores, 1):
            torch.set_num_threads(threads)
            times = timed(call, args.runs)
            cells.append(f"{statistics.median(times):.0f} ms (p90 "
                         f"{statistics.quantiles(times, n=10)[-1]:.0f})")
        rows.append(f"| {name} | {' | '.join(cells)} |")
    torch.set_num_threads(cores)

    import transformers

    about = (f"{DEFAULT.hub_id}'s architecture ({classifier.parameters / 1e6:.1f} M parameters, "
             "224x224 input) with random weights") if args.model == "synthetic" else \
        f"{args.model} ({classifier.parameters / 1e6:.3f} M parameters)"
    lines = [
        "# Moderation's cost on a CPU", "",
        f"- Machine: {cpu_name()}, {os.cpu_count()} cores, shared with other work (load "
        f"average {load_average:.1f} at the start), Python {platform.python_version()}, torch "
        f"{torch.__version__}, transformers {transformers.__version__}, "
        f"{platform.system()} {platform.release()}",
        f"- Command: `python -m benchmarks.moderation {' '.join(argv or sys.argv[1:])}`",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- The classifier: {about}, through transformers' "
        "image-classification pipeline as the bot runs it (decode, resize, normalise, the "
        f"model, softmax); fp32. Built and loaded in {load_s:.1f} s (a real start reads "
        f"{DEFAULT.size.split(', ')[-1]} instead).",
        f"- Each row: the median (and 90th percentile) of {args.runs} calls after 2 warm-ups, "
        "with all the machine's threads and with one, in the same run.", "",
        f"| check | {cores} threads | 1 thread |", "|---|---:|---:|", *rows, "",
        "The bot checks a photo on a worker thread before it queues (the event loop keeps "
        "serving), so this is added to the time until a person sees their place in line, and "
        "spent on the CPU of the process that accepts photos; a video's check runs on its GPU "
        "worker after the clip is made (I2V_MODERATION_DEVICE=cpu there too by default).", "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
