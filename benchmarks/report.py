"""The benchmark's results: one row per variant and preset (a failed or skipped row says why),
a markdown report and a JSON file of the raw numbers beside it, rewritten after every row."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.machine import describe as describe_machine
from benchmarks.quality import Scale
from benchmarks.shapes import Shape

NOT_GPU = "CPU, tiny model: not GPU figures"
GOAL_SECONDS = 5.0  # the standard preset, photo to MP4, on one H100/H200
GOAL_SPEEDUP = 2.0  # against the stock pipeline in the same run


@dataclass
class Row:
    variant: str  # the row's label: "stock (again)" for the closing stock row
    preset: str
    status: str = "ok"  # "ok", "failed" or "skipped"
    note: str = ""  # why a row failed or was skipped, or what is odd about it
    seconds: float | None = None  # median, photo to MP4, one video
    encoders: float | None = None
    denoising: float | None = None
    decode: float | None = None
    mp4: float | None = None
    runs: int = 0  # timed runs behind the medians
    peak_bytes: int | None = None
    unet_flops: int | None = None  # all UNet calls of one video
    unet_calls: int | None = None
    psnr_db: float | None = None  # against the stock pipeline's frames, same weights and seed
    per_hour: dict[int, float] = field(default_factory=dict)  # batch size -> videos/hour
    load_seconds: float | None = None

    @property
    def tflops(self) -> float | None:
        """Achieved TFLOP/s of the denoising loop."""
        if self.unet_flops is None or not self.denoising:
            return None
        return self.unet_flops / self.denoising / 1e12


@dataclass
class Result:
    command: str
    cuda: bool
    model: str
    shapes: list[Shape]
    warmups: int
    runs: int
    budget_seconds: float | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    peak_tflops: float | None = None
    peak_source: str = ""
    scale: Scale = field(default_factory=Scale)
    describe: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    stopped: str = ""  # why the run ended early, if it did

    def row(self, variant: str, preset: str) -> Row | None:
        return next((r for r in self.rows if (r.variant, r.preset) == (variant, preset)
                     and r.status == "ok"), None)


def _num(value: float | None, fmt: str = ".2f") -> str:
    return "" if value is None else format(value, fmt)


def _psnr(result: Result, row: Row) -> str:
    if row.variant == "stock":
        return "reference"
    if row.psnr_db is None:
        return ""
    text = "identical" if math.isinf(row.psnr_db) else f"{row.psnr_db:.1f}"
    verdict = result.scale.verdict(row.psnr_db)
    return text if verdict in ("", "identical") else f"{text} ({verdict})"


# FastWan photo to MP4 on one H200 (issue: faster than FastVideo's own 16 s at 720p).
TURBO_GOALS = {"turbo-max": 12.0, "turbo-standard": 5.0}  # 720p and 480p, 121 frames
WAN_FAST_GOAL = 0.5  # Wan --fast's FLOPs over stock Wan's


def turbo_verdict(result: Result) -> list[str]:
    """The turbo plan's goals, for the rows it measured."""
    if not any(r.variant.startswith(("turbo", "wan")) for r in result.rows):
        return []
    if not result.cuda:
        return [f"No GPU: the FastWan goals ({', '.join(f'{s:g} s' for s in TURBO_GOALS.values())}"
                ") are judged only on a GPU run."]
    lines = []
    for preset, goal in TURBO_GOALS.items():
        row = result.row("turbo", preset)
        if row is not None and row.seconds:
            lines.append(f"{goal:g} s goal (FastWan {preset.removeprefix('turbo-')}, photo to "
                         f"MP4): {'met' if row.seconds <= goal else 'not met'}, "
                         f"{row.seconds:.2f} s.")
    stock, fast = result.row("wan", "wan-standard"), result.row("wan-fast", "wan-standard")
    if stock and fast and stock.unet_flops and fast.unet_flops and stock.seconds and \
            fast.seconds:
        lines.append(f"Wan --fast: {fast.unet_flops / stock.unet_flops:.3f} of stock Wan's "
                     f"transformer FLOPs (goal at most {WAN_FAST_GOAL:g} per video, whole "
                     f"videos in MODELS.md), {stock.seconds / fast.seconds:.2f}x its speed.")
    wan_720p, turbo_720p = result.row("wan", "wan-high"), result.row("turbo", "turbo-max")
    if wan_720p and turbo_720p and wan_720p.seconds and turbo_720p.seconds:
        lines.append(f"FastWan at 720p, 121 frames: {wan_720p.seconds / turbo_720p.seconds:.1f}x "
                     "stock Wan's high preset (40 steps, guided) at the same shape.")
    return lines


def verdict(result: Result) -> list[str]:
    """I2VGen-XL's goals where the run has its standard preset, FastWan's where it has those."""
    turbo = turbo_verdict(result)
    if turbo and not any(r.preset == "standard" for r in result.rows):
        return turbo
    return [*i2v_verdict(result), *turbo]


def i2v_verdict(result: Result) -> list[str]:
    if not result.cuda:
        return [f"No GPU: {NOT_GPU}. The {GOAL_SECONDS:g} s and {GOAL_SPEEDUP:g}x goals are "
                "judged only on a GPU run."]
    stock = result.row("stock", "standard")
    timed = [r for r in result.rows if r.preset == "standard" and r.status == "ok"
             and r.seconds and not r.variant.startswith("stock")]
    if not timed:
        return ["The standard preset was not measured: no verdict on the goals."]
    best = min(timed, key=lambda r: r.seconds or math.inf)
    lines = [f"{GOAL_SECONDS:g} s goal (standard preset, photo to MP4): "
             f"{'met' if (best.seconds or math.inf) <= GOAL_SECONDS else 'not met'}; "
             f"fastest row {best.variant}, {best.seconds:.2f} s."]
    if stock is not None and stock.seconds:
        lines.append(f"{GOAL_SPEEDUP:g}x goal: {stock.seconds / (best.seconds or 1):.2f}x the "
                     "stock pipeline for that row.")
    keeping = [r for r in timed if result.scale.verdict(r.psnr_db) in ("identical", "rounding")]
    if keeping:
        fastest = min(keeping, key=lambda r: r.seconds or math.inf)
        lines.append(f"Fastest row that keeps the frames: {fastest.variant}, "
                     f"{fastest.seconds:.2f} s.")
    return lines


def markdown(result: Result) -> str:
    info = result.machine
    out = ["# Speed benchmark", ""]
    if not result.cuda:
        out += [f"> **{NOT_GPU}.** These numbers come from a run without CUDA on the tiny "
                "random-weight model at scaled-down shapes; they show that the benchmark "
                "works, not how fast a GPU is.", ""]
    out += [f"- Machine: {describe_machine(info)}" if info else "- Machine: unknown",
            f"- torch {info.get('torch')}, diffusers {info.get('diffusers')}, "
            f"transformers {info.get('transformers')}, Python {info.get('python')}",
            f"- Command: `{result.command}`",
            f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- Model: `{result.model}` (random weights)",
            f"- Median of up to {result.runs} timed run(s) after {result.warmups} warm-up(s); "
            "one video per run unless batched",
            f"- Peak for \"% of peak\": {_num(result.peak_tflops, '.0f') or 'none'} TFLOP/s "
            f"({result.peak_source})",
            f"- PSNR scale: {result.scale.describe()}"]
    if result.budget_seconds is not None:
        out.append(f"- Time budget: {result.budget_seconds:.0f} s")
    if result.stopped:
        out.append(f"- **Stopped early**: {result.stopped}")
    out += ["", "| preset | shape |", "|---|---|"]
    out += [f"| {s.preset} | {s.label()}, guidance {s.guidance:g} |" for s in result.shapes]
    out += ["", "Variants:", ""]
    out += [f"- **{name}**: {text}" for name, text in result.describe.items()]
    out += ["", "| preset | variant | s/video | encoders | denoising | VAE decode | MP4 | runs | "
            "peak GiB | UNet TFLOP/video | TFLOP/s | % of peak | PSNR vs stock (dB) | "
            "speed-up | note |", "|---|---|" + "---:|" * 12 + "---|"]
    for r in result.rows:
        stock = result.row("stock", r.preset)
        speedup = (_num(stock.seconds / r.seconds) + "x"
                   if stock and stock.seconds and r.seconds else "")
        share = (_num(100 * r.tflops / result.peak_tflops, ".0f")
                 if r.tflops and result.peak_tflops else "")
        gib = _num(r.peak_bytes / 2**30, ".1f") if r.peak_bytes else ""
        flops = _num(r.unet_flops / 1e12, ".4g") if r.unet_flops else ""
        note = r.note if r.status == "ok" else f"{r.status}: {r.note}"
        mp4 = "n/a" if r.runs and r.mp4 is None else _num(r.mp4, ".3f")
        out.append(f"| {r.preset} | {r.variant} | {_num(r.seconds, '.3f')} | "
                   f"{_num(r.encoders, '.3f')} | {_num(r.denoising, '.3f')} | "
                   f"{_num(r.decode, '.3f')} | {mp4} | {r.runs or ''} | {gib} | {flops} | "
                   f"{_num(r.tflops, '.4g')} | {share} | {_psnr(result, r)} | {speedup} | "
                   f"{note} |")
    batched = [r for r in result.rows if r.per_hour]
    if batched:
        sizes = sorted({b for r in batched for b in r.per_hour})
        out += ["", "Videos per hour, compatible jobs batched in one engine call:", "",
                "| preset | variant | " + " | ".join(f"batch {b}" for b in sizes) + " |",
                "|---|---|" + "---:|" * len(sizes)]
        out += [f"| {r.preset} | {r.variant} | "
                + " | ".join(_num(r.per_hour.get(b), ".0f") for b in sizes) + " |"
                for r in batched]
    out += ["", "## Verdict", "", *verdict(result), "", "## How to read it", "",
            "- encoders: prompt encoding, CLIP image embedding and the first frame's VAE "
            "latent, up to the first UNet call; denoising: first to last UNet call "
            "(scheduler included); VAE decode: to uint8 frames; MP4: H.264 encoding.",
            "- UNet TFLOP/video: torch's FlopCounterMode over every UNet call of one video as "
            "the row runs it (its step plan: fewer steps, halved batches, shallow steps); "
            "TFLOP/s: that over the denoising time; % of peak against the peak above.",
            "- PSNR: the row's frames against the stock pipeline's for the same weights and "
            "seed, the first frame's VAE sample drawn the engine's way on both sides. "
            "\"rounding\" and \"changed\" are judged against the anchors above, measured in "
            "this run.",
            "- The closing stock row repeats the first: the difference is the machine's "
            "drift over the run, the noise floor of every speed-up above.",
            "- Batched throughput: batch 1 is the row's median; larger batches one timed run.",
            ""]
    return "\n".join(out)


def write_results(result: Result, out: Path) -> tuple[Path, Path]:
    """The markdown report at `out`, the raw numbers as JSON beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(result), encoding="utf-8")
    raw = asdict(result)
    raw["not_gpu_figures"] = not result.cuda
    for row, obj in zip(raw["rows"], result.rows, strict=True):
        row["tflops"] = obj.tflops
    data = out.with_suffix(".json")
    data.write_text(json.dumps(_finite(raw), indent=2, default=str) + "\n", encoding="utf-8")
    return out, data


def _finite(value: Any) -> Any:
    """Strict JSON has no infinity: identical frames are written as "inf"."""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
