"""The benchmark's results: the machine, one row per variant and preset, a markdown report
and a JSON file of the raw numbers beside it."""

from __future__ import annotations

import json
import math
import platform
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from engine.bench_runners import Shape

NOT_GPU = "CPU, tiny model: not GPU figures"
GOAL_SECONDS = 5.0  # the standard preset, photo to MP4, on one H100
GOAL_SPEEDUP = 2.0  # against the stock pipeline in the same run
GPU_COMMAND = "i2vbot bench --model synthetic --runs 3 --batches 1,2,4"
AGREEMENT_DB = 30.0  # below this PSNR against stock a row "changes the frames"
# Dense bf16/fp16 tensor-core peaks in TFLOP/s (no sparsity), by name as CUDA reports it.
PEAK_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.0), ("H200", 989.0), ("A100", 312.0),
               ("L40S", 362.0), ("RTX 4090", 165.0))


@dataclass
class Row:
    variant: str
    preset: str
    seconds: float  # median, photo to MP4, one video
    encoders: float
    denoising: float
    decode: float
    mp4: float
    peak_bytes: int | None
    step_flops: int  # one UNet call, both guidance halves
    unet_calls: int
    psnr_db: float | None  # against the stock pipeline's frames, same weights and seed
    per_hour: dict[int, float] = field(default_factory=dict)  # batch size -> videos/hour
    load_seconds: float | None = None

    @property
    def tflops(self) -> float:
        """Achieved TFLOP/s of the denoising loop."""
        return self.step_flops * self.unet_calls / max(self.denoising, 1e-9) / 1e12


@dataclass
class Result:
    command: str
    cuda: bool
    model: str
    folder: str
    shapes: list[Shape]
    runs: int
    warmups: int
    batches: list[int]
    describe: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # rows that raised, and why

    def row(self, variant: str, preset: str) -> Row | None:
        return next((r for r in self.rows if (r.variant, r.preset) == (variant, preset)),
                    None)


def peak_tflops(gpu: str) -> float | None:
    return next((peak for name, peak in PEAK_TFLOPS if name in gpu), None)


def machine(cuda: bool) -> dict[str, Any]:
    import diffusers
    import transformers

    info: dict[str, Any] = {
        "torch": torch.__version__, "diffusers": diffusers.__version__,
        "transformers": transformers.__version__, "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
    }
    if cuda:
        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = torch.version.cuda
        info["peak_tflops"] = peak_tflops(info["gpu"])
        info["driver"] = _driver()
    return info


def _driver() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def verdict(result: Result) -> list[str]:
    if not result.cuda:
        return [f"No GPU: {NOT_GPU}. The {GOAL_SECONDS:g} s and {GOAL_SPEEDUP:g}x goals are "
                "judged only on a GPU run (see the command below)."]
    stock, engine = result.row("stock", "standard"), result.row("engine", "standard")
    if engine is None:
        return ["The standard preset was not measured: no verdict on the goals."]
    lines = [f"{GOAL_SECONDS:g} s goal (standard preset, photo to MP4): "
             f"{'met' if engine.seconds <= GOAL_SECONDS else 'not met'} by the engine as "
             f"configured ({engine.seconds:.2f} s)."]
    if stock is not None:
        speedup = stock.seconds / engine.seconds
        lines.append(f"{GOAL_SPEEDUP:g}x goal: {'met' if speedup >= GOAL_SPEEDUP else 'not met'}"
                     f" ({speedup:.2f}x the stock pipeline).")
    agreeing = [r for r in result.rows if r.preset == "standard" and r.variant != "stock"
                and (r.psnr_db is None or r.psnr_db >= AGREEMENT_DB)]
    if agreeing:
        best = min(agreeing, key=lambda r: r.seconds)
        lines.append(f"Fastest row that keeps the frames: {best.variant}, {best.seconds:.2f} s.")
    return lines


def _num(value: float | None, fmt: str = ".2f") -> str:
    return "" if value is None else format(value, fmt)


def _psnr(row: Row) -> str:
    if row.variant == "stock" or row.psnr_db is None:
        return "reference" if row.variant == "stock" else ""
    if math.isinf(row.psnr_db):
        return "identical"
    flag = "" if row.psnr_db >= AGREEMENT_DB else " (changes frames)"
    return f"{row.psnr_db:.1f}{flag}"


def markdown(result: Result, info: dict[str, Any]) -> str:
    peak = info.get("peak_tflops")
    out = ["# Speed benchmark", ""]
    if not result.cuda:
        out += [f"> **{NOT_GPU}.** These numbers come from a run without CUDA on the tiny "
                "random-weight model at scaled-down shapes; they show that the benchmark "
                "works, not how fast a GPU is. The H100 table is still to be made.", ""]
    gpu = (f"{info['gpu']}, driver {info.get('driver') or 'unknown'}, CUDA {info['cuda']}"
           if result.cuda else f"no GPU ({info['cpu']}, {info['threads']} torch threads)")
    out += [f"- Machine: {gpu}",
            f"- torch {info['torch']}, diffusers {info['diffusers']}, "
            f"transformers {info['transformers']}, Python {info['python']}",
            f"- Command: `{result.command}`",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- Model: `{result.model}` (random weights, {result.folder})",
            f"- Median of {result.runs} run(s) after {result.warmups} warm-up(s); "
            "one video per run unless batched", ""]
    out += ["| preset | shape |", "|---|---|"]
    out += [f"| {s.preset} | {s.label()}, guidance {s.guidance:g} |" for s in result.shapes]
    out += ["", "Variants:", ""]
    out += [f"- **{name}**: {text}" for name, text in result.describe.items()]
    out += ["", "| preset | variant | s/video | encoders | denoising | VAE decode | MP4 | "
            "peak GiB | TFLOP/step | TFLOP/s | % of peak | PSNR vs stock (dB) | speed-up |",
            "|---|---|" + "---:|" * 11]
    for r in result.rows:
        stock = result.row("stock", r.preset)
        speedup = _num(stock.seconds / r.seconds) + "x" if stock else ""
        share = _num(100 * r.tflops / peak, ".0f") if peak else ""
        gib = _num(r.peak_bytes / 2**30, ".1f") if r.peak_bytes else ""
        out.append(f"| {r.preset} | {r.variant} | {r.seconds:.3f} | {r.encoders:.3f} | "
                   f"{r.denoising:.3f} | {r.decode:.3f} | {r.mp4:.3f} | {gib} | "
                   f"{r.step_flops / 1e12:.4g} | {r.tflops:.4g} | {share} | {_psnr(r)} | "
                   f"{speedup} |")
    batched = [r for r in result.rows if r.per_hour]
    if batched:
        sizes = result.batches
        out += ["", "Videos per hour, compatible jobs batched in one engine call:", "",
                "| preset | variant | " + " | ".join(f"batch {b}" for b in sizes) + " |",
                "|---|---|" + "---:|" * len(sizes)]
        out += [f"| {r.preset} | {r.variant} | "
                + " | ".join(_num(r.per_hour.get(b), ".0f") for b in sizes) + " |"
                for r in batched]
    if result.failures:
        out += ["", "Rows that failed:", "", *(f"- {f}" for f in result.failures)]
    out += ["", "## Verdict", "", *verdict(result), "", "## How to read it", "",
            "- encoders: prompt encoding, CLIP image embedding and the first frame's VAE "
            "latent, up to the first UNet call; denoising: first to last UNet call "
            "(scheduler included); VAE decode: to uint8 frames; MP4: H.264 encoding.",
            "- TFLOP/step: torch's FlopCounterMode over one real UNet call (both guidance "
            "halves); TFLOP/s: that times the calls, over the denoising time; % of peak "
            "against the GPU's dense bf16/fp16 rate.",
            "- PSNR: the variant's frames against the stock pipeline's for the same weights "
            "and seed, with the first frame's VAE sample drawn the engine's way on both sides "
            f"(the stock example draws it from the GPU's global RNG). Below {AGREEMENT_DB:g} dB "
            "a row is marked as changing the frames beyond rounding.",
            "- Batched throughput: batch 1 is the row's median; larger batches one timed run.",
            ""]
    if not result.cuda:
        out += ["## Still to do: the GPU table", "",
                "On an H100 (or H200, named as such), from the repository root:", "",
                f"    {GPU_COMMAND}", "",
                "It builds the full-size architecture with random weights under data/models "
                "(no download, about 4.6 GB on disk), then times every variant on the standard "
                "preset and stock and engine on high and max. Where device time is short, "
                "run `--presets standard` first, then `--presets high,max --variants "
                "stock,engine --out benchmarks/RESULTS-high-max.md` (each run rewrites its "
                "--out file and the .json beside it after every row).", ""]
    return "\n".join(out)


def write_results(result: Result, out: Path) -> tuple[Path, Path]:
    """The markdown report at `out`, the raw numbers as JSON beside it."""
    info = machine(result.cuda)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(result, info), encoding="utf-8")
    raw = {"machine": info, "not_gpu_figures": not result.cuda, **asdict(result)}
    for row, obj in zip(raw["rows"], result.rows, strict=True):
        row["tflops"] = obj.tflops
        if row["psnr_db"] is not None and math.isinf(row["psnr_db"]):
            row["psnr_db"] = "inf"  # strict JSON has no infinity
    data = out.with_suffix(".json")
    data.write_text(json.dumps(raw, indent=2, default=str) + "\n", encoding="utf-8")
    return out, data
