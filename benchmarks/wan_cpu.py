"""Wan, Wan `--fast` and FastWan on this machine's CPU, at a small size: the wall clock of
each part (encoders, denoising, VAE decode) beside its FLOPs, for benchmarks/MODELS.md.

The full-size architectures with random weights, photo to uint8 frames through the engines
(no MP4), one video a row, at 64x64: Wan's standard and preview presets (their frames, steps
and guidance), Wan's speed mode on the standard preset, the VAE decode alone of the 121
frames of Wan's high and max presets (their denoising is 80 and 100 calls of the same
transformer), then FastWan on Wan's standard frames and at its own 121. Stock Wan's standard
row runs first and again after the Wan rows: their difference is the drift of the machine.
The transformer runs in bf16 (it alone is 9.3 GiB), the VAE in fp32 as always. UMT5-XXL is
cut to one layer: with its 24 it would not fit beside them in 23 GB, so the encoders column
is not the real model's; the denoising and decode columns are.

    python -m benchmarks.model_flops --out benchmarks/MODELS.md   # runs this after the FLOPs
"""

from __future__ import annotations

import gc
import logging
import os
import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from benchmarks.machine import cpu_name
from benchmarks.runners import TurboRunner, WanRunner
from benchmarks.shapes import Shape
from engine.config import EngineConfig
from engine.models.turbo.engine import TurboEngine
from engine.models.wan.decode import decode
from engine.models.wan.engine import WanEngine
from engine.models.wan.fast import FAST, STOCK, WanShortcuts
from engine.models.wan.tiny import wan_components
from engine.spec.cards import card

logger = logging.getLogger(__name__)

SIDE = 64  # pixels: 4x4 latents, 2x2 tokens a latent frame


def small(model: str, preset: str, frames: int | None = None) -> Shape:
    p = card(model).presets[preset]
    return Shape(f"{model}-{preset}", SIDE, SIDE, frames or p.frames, p.fps, p.steps,
                 p.guidance)


@dataclass(frozen=True)
class Timed:
    label: str
    model: str
    shape: Shape
    shortcuts: WanShortcuts
    encoders: float
    denoising: float
    decode: float
    load: float = 0.0  # the machine's 1-minute load average after the row (shared CPUs)
    # The process's CPU seconds (all its threads): what the row cost in work, much less
    # moved than the wall clock by other programs on the same cores.
    cpu: float = 0.0

    @property
    def seconds(self) -> float:
        return self.encoders + self.denoising + self.decode


class _OneLayerText:
    """The synthetic model with UMT5 cut to one layer (see the module's note)."""

    def _synthetic_parts(self, device: torch.device | str, dtype: torch.dtype
                         ) -> dict[str, Any]:
        return wan_components("synthetic", device, dtype, text_layers=1)


class CpuWan(_OneLayerText, WanEngine):
    pass


class CpuTurbo(_OneLayerText, TurboEngine):
    pass


class CpuWanRunner(WanRunner):
    @staticmethod
    def _engine(config: EngineConfig) -> Any:
        return CpuWan(config)


class CpuTurboRunner(TurboRunner):
    @staticmethod
    def _engine(config: EngineConfig) -> Any:
        return CpuTurbo(config)


def _timed(runner: WanRunner, label: str, shape: Shape, fast: bool = False) -> Timed:
    runner.fast = fast
    cpu = time.process_time()
    timing = runner.run(shape, [8888])
    cpu = time.process_time() - cpu
    logger.info("%s (%s): encoders %.1f s, denoising %.1f s, decode %.1f s", label,
                shape.label(), timing.encoders, timing.denoising, timing.decode)
    return Timed(label, runner.model, shape, runner.shortcuts(), timing.encoders,
                 timing.denoising, timing.decode, os.getloadavg()[0], cpu)


def _decode_alone(runner: WanRunner, label: str, shape: Shape) -> Timed:
    """The engine's VAE decode of a clip of `shape`'s frames, on latents of its shape."""
    pipe = runner.engine.pipeline
    latent = ((shape.frames - 1) // 4 + 1, shape.height // 16, shape.width // 16)
    latents = torch.randn(1, 48, *latent, generator=torch.Generator().manual_seed(0))
    start, cpu = time.perf_counter(), time.process_time()
    decode(pipe, latents)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    logger.info("%s (%s): %.1f s", label, shape.label(), seconds)
    return Timed(label, runner.model, replace(shape, steps=0), STOCK, 0.0, 0.0, seconds,
                 os.getloadavg()[0], cpu)


def wan_cpu_timings(threads: int) -> list[Timed]:
    torch.set_num_threads(threads)
    config = EngineConfig(model="synthetic", device="cpu", dtype="bf16")
    out: list[Timed] = []
    wan = CpuWanRunner("wan", replace(config, family="wan"))
    wan.run(replace(small("wan", "preview"), frames=9, steps=2), [1])  # warm-up, untimed
    standard = small("wan", "standard")
    out.append(_timed(wan, "wan standard", standard))
    out.append(_timed(wan, "wan preview", small("wan", "preview")))
    out.append(_timed(wan, "wan --fast standard", standard, fast=True))
    out.append(_decode_alone(wan, "wan high and max: the decode alone", small("wan", "high")))
    out.append(_timed(wan, "wan standard (again)", standard))
    wan.close()
    del wan
    gc.collect()
    turbo = CpuTurboRunner("turbo", replace(config, family="turbo"))
    turbo.run(replace(small("turbo", "preview"), frames=9), [1])  # warm-up, untimed
    out.append(_timed(turbo, "turbo at wan standard's frames",
                      small("turbo", "standard", frames=standard.frames)))
    out.append(_timed(turbo, "turbo standard", small("turbo", "standard")))
    turbo.close()
    return out


def timing_table(timed: list[Timed], threads: int, wan: dict[str, Any]) -> list[str]:
    from benchmarks.wan_flops import wan_video_flops

    stock = [t for t in timed if t.label.startswith("wan standard")]
    base = statistics.mean(t.seconds for t in stock)
    base_cpu = statistics.mean(t.cpu for t in stock)
    drift = abs(stock[-1].seconds - stock[0].seconds) / base
    cpu_drift = abs(stock[-1].cpu - stock[0].cpu) / base_cpu
    base_flops = sum(wan_video_flops(wan, stock[0].shape, STOCK))
    out = ["## Wall clock on this CPU", "",
           f"Photo to uint8 frames through the engines on {cpu_name()}, {threads} torch threads, "
           f"at {SIDE}x{SIDE} (each row's frames, steps and guidance are its preset's): the "
           "full-size transformer (bf16) and VAE (fp32) with random weights, UMT5 cut to one "
           "layer (the encoders column is not the real model's). One video a row. Stock Wan's "
           f"standard row ran first and after the Wan rows ({stock[0].seconds:.0f} s and "
           f"{stock[-1].seconds:.0f} s of wall clock: {drift:.0%} drift; {stock[0].cpu:.0f} and "
           f"{stock[-1].cpu:.0f} CPU seconds: {cpu_drift:.0%}; the noise floor of the ratios, "
           "which use their mean). At this size a transformer call reads 9.3 GiB of weights "
           "for a few tokens: its time is memory traffic, not arithmetic, so denoising here "
           "weighs less against the decode than at a preset's real size (the FLOPs above).",
           f" The machine's load average (1 minute) after each row was "
           f"{min(t.load for t in timed):.1f} to {max(t.load for t in timed):.1f} on "
           f"{os.cpu_count()} cores: other work shared them.",
           " The CPU seconds (the process's, all threads) are the steadier measure of work.",
           "", "| row | frames, steps, guidance | encoders s | denoising s | VAE decode s | "
           "seconds/video | decode share | CPU s | stock standard / row (time) | stock "
           "standard / row (CPU s) | stock standard / row (FLOPs, this size) |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in timed:
        parts = wan_video_flops(wan, replace(t.shape, steps=max(t.shape.steps, 1)),
                                t.shortcuts)
        flops = parts[2] if t.shape.steps == 0 else sum(parts)  # a decode alone: its own
        if t.shape.steps == 0:  # a decode alone: nothing to compare a video with
            out.append(f"| {t.label} | {t.shape.frames}, decode only | | | {t.decode:.1f} | | "
                       f"| {t.cpu:.0f} | | | ({flops / 1e12:.1f} TFLOP) |")
            continue
        out.append(f"| {t.label} | {t.shape.frames}, {t.shape.steps}, {t.shape.guidance:g} | "
                   f"{t.encoders:.1f} | {t.denoising:.1f} | {t.decode:.1f} | {t.seconds:.0f} "
                   f"| {t.decode / t.seconds:.0%} | {t.cpu:.0f} | {base / t.seconds:.2f}x | "
                   f"{base_cpu / t.cpu:.2f}x | {base_flops / flops:.2f}x |")
    return [*out, "", f"Wan `--fast` ran as: {FAST.describe()}.", ""]
