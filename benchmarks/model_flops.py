"""FLOPs per video of every model's presets, side by side: benchmarks/MODELS.md.

Counted with torch's FlopCounterMode on the released architectures with no weights (the meta
device: shapes only, seconds on a laptop), at each preset's real shape (square, at its pixel
budget). I2VGen-XL goes through benchmarks/flops.py; Wan 2.2 TI2V-5B's parts are counted
here the way its pipeline calls them: UMT5 on both 512-token prompts, the VAE encode of the
photo, the transformer twice per step (prompt and negative prompt, as separate calls), the
VAE decode of the whole clip. The last column is what each card's `cost_factor` is
set from: each model's FLOPs per unit of pixels x frames x steps, over I2VGen-XL's.

    python -m benchmarks.model_flops --out benchmarks/MODELS.md
"""

from __future__ import annotations

import argparse
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from benchmarks.flops import counted, video_flops
from benchmarks.shapes import Shape
from engine.models.i2vgen_xl.fast import STOCK
from engine.models.i2vgen_xl.tiny import synthetic_components
from engine.models.wan.engine import MAX_TOKENS
from engine.models.wan.tiny import wan_components
from engine.spec.cards import ModelCard, cards
from engine.spec.params import size_for

META = torch.device("meta")


def shape_of(model: ModelCard, preset: str) -> Shape:
    p = model.presets[preset]
    width, height = size_for(p.resolution, 1.0, model)
    return Shape(preset, width, height, p.frames, p.fps, p.steps, p.guidance)


def _latent(shape: Shape) -> tuple[int, int, int]:
    """Latent frames, height and width of a Wan TI2V video (4x in time, 16x in space)."""
    return (shape.frames - 1) // 4 + 1, shape.height // 16, shape.width // 16


def wan_denoiser_flops(transformer: Any, shape: Shape) -> int:
    """The transformer's FLOPs per video of `shape`: each step calls it for the prompt and
    for the negative prompt. `transformer` may live on the meta device."""
    frames, h, w = _latent(shape)
    tokens = frames * (h // 2) * (w // 2)
    device = next(transformer.parameters()).device
    like = dict(device=device, dtype=transformer.dtype)
    with counted(device) as counter:
        transformer(hidden_states=torch.zeros(1, 48, frames, h, w, **like),
                    timestep=torch.zeros(1, tokens, device=device),
                    encoder_hidden_states=torch.zeros(1, MAX_TOKENS,
                                                      transformer.config.text_dim, **like),
                    return_dict=False)
    calls = shape.steps * (2 if shape.guidance > 1 else 1)
    return int(counter.get_total_flops()) * calls


def wan_video_flops(parts: dict[str, Any], shape: Shape) -> tuple[int, int, int]:
    """(encoders, transformer, decode) FLOPs of one Wan TI2V video of `shape`."""
    vae = parts["vae"]
    frames, h, w = _latent(shape)
    with counted(META) as counter:
        vae.encode(torch.zeros(1, 3, 1, shape.height, shape.width, device=META))
    # The prompt and the negative prompt through UMT5, counted once (see umt5_flops).
    encoders = int(counter.get_total_flops()) + 2 * parts["text_flops"]
    with counted(META) as counter:
        vae.decode(torch.zeros(1, 48, frames, h, w, device=META))
    return (encoders, wan_denoiser_flops(parts["transformer"], shape),
            int(counter.get_total_flops()))


def umt5_flops() -> int:
    """One 512-token prompt through UMT5-XXL. Its attention bias calls .item(), which the
    meta device cannot do: one full-width layer is counted on the CPU (with a small
    vocabulary: the embedding is a lookup, no FLOPs) and multiplied by the 24 layers."""
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(vocab_size=512, d_model=4096, d_kv=64, d_ff=10240, num_layers=1,
                        num_heads=64, relative_attention_num_buckets=32,
                        relative_attention_max_distance=128, feed_forward_proj="gated-gelu")
    layer = UMT5EncoderModel(config).eval()
    ids = torch.zeros(1, MAX_TOKENS, dtype=torch.long)
    with counted(torch.device("cpu")) as counter:
        layer(ids, torch.ones_like(ids))
    return 24 * int(counter.get_total_flops())


def rows() -> list[tuple[str, str, Shape, int, int, int]]:
    """(model, preset, shape, encoders, denoiser, decode) for every preset of every model."""
    out = []
    i2v = synthetic_components("meta")
    wan = {**wan_components("synthetic", META, torch.bfloat16), "text_flops": umt5_flops()}
    for model in cards().values():
        for preset in model.presets:
            shape = shape_of(model, preset)
            if model.name == "i2vgen-xl":
                f = video_flops(i2v, {"stock": STOCK}, shape)["stock"]
                parts = (f.encoders, f.unet, f.decode)
            else:
                parts = wan_video_flops(wan, shape)
            out.append((model.name, preset, shape, *parts))
    return out


def work(shape: Shape) -> int:
    return shape.width * shape.height * shape.frames * shape.steps


def table(found: list[tuple[str, str, Shape, int, int, int]]) -> list[str]:
    per_work = {}
    for model, _, shape, enc, den, dec in found:
        per_work.setdefault(model, []).append((enc + den + dec) / work(shape))
    base = sum(per_work["i2vgen-xl"]) / len(per_work["i2vgen-xl"])
    lines = ["| model | preset | shape | encoders TFLOP | denoiser TFLOP | VAE decode TFLOP "
             "| total TFLOP | FLOPs per pixel-frame-step vs I2VGen-XL |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for model, preset, shape, enc, den, dec in found:
        total = enc + den + dec
        lines.append(f"| {model} | {preset} | {shape.label()} | {enc / 1e12:.1f} | "
                     f"{den / 1e12:.1f} | {dec / 1e12:.1f} | {total / 1e12:.1f} | "
                     f"{total / work(shape) / base:.2f} |")
    factors = {m: sum(v) / len(v) / base for m, v in per_work.items()}
    lines += ["", "Mean over the presets, the cost factor: " + ", ".join(
        f"{m} {f:.2f}" for m, f in factors.items()) + "."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/MODELS.md"))
    args = parser.parse_args(argv)
    lines = ["# FLOPs per video, by model and preset", "",
             f"- Counted on {platform.machine()} with torch {torch.__version__}, "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, by `python -m benchmarks.model_flops`",
             "- Meta device (shapes only): the released architectures, square videos at each "
             "preset's pixel budget; matrix products, convolutions and attention, 2 FLOPs per "
             "multiply-add", "", *table(rows())]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
