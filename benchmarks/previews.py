"""What live previews cost: benchmarks/PREVIEWS.md.

Each job's previews beside the same job without them, for every preset of every model (and
I2VGen-XL's speed mode): FLOPs counted with torch's FlopCounterMode on the released
architectures on the meta device (shapes only; see benchmarks/flops.py and model_flops.py),
at each preset's real shape. A preview is the engine's own preview decode
(`engine/models/<name>/`: one frame of the clean prediction through the model's VAE),
counted by running that very function on meta latents; a job has as many as
`PreviewPlan.planned` gives its steps at the default I2V_PREVIEW_EVERY (at most: the gap in
seconds can only drop some). The clean prediction itself (x0 from x_t and the model's output)
and the JPEG are elementwise work, left out as the scheduler is.

    python -m benchmarks.previews --out benchmarks/PREVIEWS.md
"""

from __future__ import annotations

import argparse
import platform
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from benchmarks.flops import counted, video_flops
from benchmarks.model_flops import shape_of
from benchmarks.shapes import Shape
from benchmarks.wan_flops import META, umt5_flops, wan_video_flops
from engine.models.i2vgen_xl.decode import decode_stills
from engine.models.i2vgen_xl.fast import FAST, STOCK
from engine.models.i2vgen_xl.tiny import synthetic_components
from engine.models.wan.preview import decode_still
from engine.models.wan.tiny import wan_components
from engine.spec.cards import cards
from engine.spec.work import PreviewPlan

DEFAULT = PreviewPlan(every=0.25)  # I2V_PREVIEW_EVERY's default (bot/settings.py)
GOAL_SHARE = 0.05  # previews at most 5% of a standard job's compute
GOAL_FIRST = 1 / 3  # the first one within the first third of the denoising


@dataclass(frozen=True)
class Row:
    model: str
    preset: str
    mode: str  # "stock" or "fast"
    shape: Shape
    steps: int  # denoising steps run (the speed mode's solver runs fewer)
    job: int  # FLOPs of the job without previews: encoders, denoiser, VAE decode
    each: int  # FLOPs of one preview
    planned: list[int]  # the steps the previews come at

    @property
    def previews(self) -> int:
        return len(self.planned)

    @property
    def share(self) -> float:
        return self.previews * self.each / self.job

    @property
    def first(self) -> float:
        return self.planned[0] / self.steps if self.planned else 0.0


def i2vgen_preview_flops(parts: dict[str, Any], shape: Shape) -> int:
    """One preview of I2VGen-XL: the engine's decode of one latent frame."""
    vae = parts["vae"]
    latents = torch.zeros(1, vae.config.latent_channels, shape.height // 8, shape.width // 8,
                          device=META)
    with counted(META) as counter:
        decode_stills(SimpleNamespace(vae=vae), latents)
    return int(counter.get_total_flops())


def wan_preview_flops(parts: dict[str, Any], shape: Shape) -> int:
    """One preview of Wan: the engine's decode of the last latent frame alone."""
    vae = parts["vae"]
    latents = torch.zeros(1, vae.config.z_dim, 1, shape.height // 16, shape.width // 16,
                          device=META)
    with counted(META) as counter:
        decode_still(SimpleNamespace(vae=vae), latents)
    return int(counter.get_total_flops())


def rows(plan: PreviewPlan = DEFAULT, presets: tuple[str, ...] | None = None,
         i2vgen: dict[str, Any] | None = None, wan: dict[str, Any] | None = None) -> list[Row]:
    """Every preset of both models (or `presets`), I2VGen-XL also in its speed mode; the
    parts default to the released architectures on the meta device."""
    i2vgen = i2vgen if i2vgen is not None else synthetic_components("meta")
    if wan is None:
        wan = {**wan_components("synthetic", META, torch.bfloat16), "text_flops": umt5_flops()}
    out = []
    for model in cards().values():
        for preset in model.presets:
            if presets is not None and preset not in presets:
                continue
            shape = shape_of(model, preset)
            if model.name == "i2vgen-xl":
                flops = video_flops(i2vgen, {"stock": STOCK, "fast": FAST}, shape)
                each = i2vgen_preview_flops(i2vgen, shape)
                for mode, shortcuts in (("stock", STOCK), ("fast", FAST)):
                    steps = shortcuts.steps(shape.steps)
                    out.append(Row(model.name, preset, mode, shape, steps, flops[mode].total,
                                   each, plan.planned(steps)))
            elif model.name == "wan":
                job = sum(wan_video_flops(wan, shape))
                out.append(Row(model.name, preset, "stock", shape, shape.steps, job,
                               wan_preview_flops(wan, shape), plan.planned(shape.steps)))
    return out


def table(found: list[Row], plan: PreviewPlan = DEFAULT) -> list[str]:
    lines = ["| model | preset | mode | shape | job TFLOP | previews (at steps) | TFLOP each "
             "| previews / job | first preview at |",
             "|---|---|---|---|---:|---|---:|---:|---:|"]
    for r in found:
        at = ", ".join(map(str, r.planned))
        shape = replace(r.shape, steps=r.steps).label()
        lines.append(f"| {r.model} | {r.preset} | {r.mode} | {shape} | {r.job / 1e12:.1f} | "
                     f"{r.previews} ({at}) | {r.each / 1e12:.2f} | {r.share:.2%} | "
                     f"{r.first:.0%} of the steps |")
    standard = [r for r in found if r.preset == "standard"]
    met = all(r.share <= GOAL_SHARE and r.first <= GOAL_FIRST for r in standard)
    worst = max(standard, key=lambda r: r.share)
    lines += ["", f"Goal (a standard job's previews at most {GOAL_SHARE:.0%} of its compute, "
              f"the first within the first third of the denoising, at I2V_PREVIEW_EVERY="
              f"{plan.every:g}): {'met' if met else 'NOT met'}; the most, "
              f"{worst.share:.2%}, is {worst.model}'s {worst.mode} standard job."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/PREVIEWS.md"))
    args = parser.parse_args(argv)
    lines = ["# What live previews cost", "",
             f"- Counted on {platform.machine()} with torch {torch.__version__}, "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, by `python -m benchmarks.previews`; "
             "no GPU: FLOPs, not seconds",
             "- Meta device (shapes only): the released architectures (I2VGen-XL: UNet 1.42 B, "
             "SD 2.1 VAE; Wan 2.2 TI2V-5B: transformer 5 B, its 48-channel VAE, UMT5-XXL), "
             "square videos at each preset's pixel budget; matrix products, convolutions and "
             "attention, 2 FLOPs per multiply-add",
             "- A job: its encoders, every denoising step, the VAE decode of the whole clip. A "
             "preview: the engine's own decode of one frame of the clean prediction "
             "(I2VGen-XL's last frame; Wan's last latent frame, decoded alone). A batch decodes "
             "one frame per job: the same share.", "", *table(rows())]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
