"""The speed benchmark on the tiny model at tiny shapes: its report, not its speed."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from engine.bench_report import NOT_GPU
from engine.bench_runners import Shape
from engine.benchmark import BenchOptions, run_benchmark
from engine.config import EngineConfig

SHAPES = {"standard": Shape("standard", 64, 64, 8, 8, 2, 9.0),
          "high": Shape("high", 128, 64, 8, 12, 2, 9.0)}


@pytest.fixture
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU report")
def test_benchmark_reports_every_row_on_the_tiny_model(tiny_model_dir: Path, tmp_path: Path,
                                                      one_thread: None) -> None:
    out = tmp_path / "RESULTS.md"
    result = run_benchmark(BenchOptions(
        model=str(tiny_model_dir), base=EngineConfig(device="cpu"),
        presets=("standard", "high"), variants=("stock", "engine", "fuse-qkv"), runs=1,
        warmups=1, batches=(1, 2), shapes=SHAPES, out=out, command="i2vbot bench --test"))

    rows = {(r.variant, r.preset): r for r in result.rows}
    # Ablation rows run on the first preset only; stock and engine on all.
    assert set(rows) == {("stock", "standard"), ("stock", "high"), ("engine", "standard"),
                         ("engine", "high"), ("fuse-qkv", "standard")}
    for row in rows.values():
        assert row.seconds > 0 and row.denoising > 0 and row.mp4 > 0
        assert row.unet_calls == 2 and row.step_flops > 0 and row.tflops > 0
    # Twice the pixels: nearly twice the UNet work (the text and image context is fixed).
    assert 1.5 < rows["stock", "high"].step_flops / rows["stock", "standard"].step_flops <= 2
    # Same fp32 weights, seed and random draws: the engine's own prompt encoding, image
    # framing and fused projections change at most the last float bits, which flip a few
    # pixels by one level (about 90 dB seen); different draws would give under 20 dB.
    for key in (("engine", "standard"), ("engine", "high"), ("fuse-qkv", "standard")):
        psnr = rows[key].psnr_db
        assert psnr is not None and (math.isinf(psnr) or psnr > 60), (key, psnr)
    assert set(rows["engine", "standard"].per_hour) == {1, 2}

    report = out.read_text()
    assert NOT_GPU in report and "i2vbot bench --test" in report
    assert "PSNR vs stock" in report and "batch 2" in report
    for variant, preset in rows:
        assert f"| {preset} | {variant} | " in report
    raw = json.loads(out.with_suffix(".json").read_text())
    assert raw["not_gpu_figures"] is True and len(raw["rows"]) == 5
