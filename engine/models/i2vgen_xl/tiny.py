"""Random-weight I2VGen-XL pipelines built from configs, never downloaded.

"tiny" is small enough for CPU tests (one denoising step at 64x64x8 in well under a
second); it is saved with `save_pretrained` so that it loads through exactly the code path
real weights take. "synthetic" has the real architecture for honest benchmarks (compute does
not depend on weight values); it is built in memory directly on the device that runs it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from engine.models.i2vgen_xl.card import CARD
from engine.random_weights import SEED, ensure_built

MAX_TOKENS = 77
BOS, EOS = "<|startoftext|>", "<|endoftext|>"

# ali-vilab/i2vgen-xl's scheduler: v-prediction on a zero-terminal-SNR cosine schedule.
SCHEDULER = dict(
    beta_schedule="squaredcos_cap_v2",
    rescale_betas_zero_snr=True,
    set_alpha_to_one=True,
    clip_sample=False,
    steps_offset=1,
    timestep_spacing="trailing",
    prediction_type="v_prediction",
)


def _byte_symbols() -> list[str]:
    """GPT-2/CLIP's printable stand-ins for the 256 byte values."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    codes, extra = list(printable), 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def write_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """A byte-level CLIP vocabulary with no merges: every byte is a token, so any text
    tokenizes without the Hub's 49k-token vocabulary."""
    symbols = _byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + [BOS, EOS]
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = folder / "vocab.json", folder / "merges.txt"
    vocab.write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
    merges.write_text("#version: 0.2\n", encoding="utf-8")
    return vocab, merges


def byte_tokenizer(scratch: Path):  # type: ignore[no-untyped-def]
    """A CLIP tokenizer over the 256 byte symbols, written locally: no Hub download."""
    from transformers import CLIPTokenizer

    vocab, merges = write_tokenizer_files(scratch / "tokenizer-src")
    return CLIPTokenizer(vocab=str(vocab), merges=str(merges), model_max_length=MAX_TOKENS)


def _tiny_components(scratch: Path) -> dict[str, object]:
    from diffusers import AutoencoderKL, DDIMScheduler, I2VGenXLUNet
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    tokenizer = byte_tokenizer(scratch)
    width = 8  # text width = image embedding width = UNet cross-attention width
    torch.manual_seed(SEED)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=width, intermediate_size=16,
        num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=MAX_TOKENS,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, projection_dim=width))
    torch.manual_seed(SEED)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=8, projection_dim=width, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, patch_size=4, intermediate_size=16))
    feature_extractor = CLIPImageProcessor(crop_size=32, size=32)
    torch.manual_seed(SEED)
    unet = I2VGenXLUNet(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=8, in_channels=4,
        out_channels=4, down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=width,
        attention_head_dim=4, num_attention_heads=None, norm_num_groups=2)
    torch.manual_seed(SEED)
    # Four levels keep the real 8x pixel-to-latent scale, so sizes mean the same as for real.
    vae = AutoencoderKL(
        block_out_channels=(4, 4, 4, 4), in_channels=3, out_channels=3, layers_per_block=1,
        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4, sample_size=64, norm_num_groups=2)
    return dict(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                image_encoder=image_encoder, feature_extractor=feature_extractor,
                scheduler=DDIMScheduler(**SCHEDULER))


def synthetic_components(device: torch.device | str = "cpu",
                         dtype: torch.dtype = torch.float32) -> dict[str, object]:
    """The released model's architecture (UNet 1.42 B parameters, SD 2.1 VAE, OpenCLIP
    ViT-H/14 text and image towers) with random weights, made directly on `device`: no
    download and no 9 GB file. Each part is seeded, so two builds on the same device hold the
    same weights (the benchmark's stock and engine rows compare like with like). The tokenizer
    is the byte-level one: token ids only need to fall inside the vocabulary for timing."""
    from diffusers import AutoencoderKL, DDIMScheduler, I2VGenXLUNet
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = byte_tokenizer(Path(scratch))
    parts: dict[str, object] = {}
    # Built in fp32 and cast after, so that every dtype rounds the same numbers.
    with torch.device(device):
        torch.manual_seed(SEED)
        parts["text_encoder"] = CLIPTextModel(CLIPTextConfig(
            vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
            num_attention_heads=16, max_position_embeddings=MAX_TOKENS, hidden_act="gelu",
            projection_dim=1024, bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id))
        torch.manual_seed(SEED)
        parts["image_encoder"] = CLIPVisionModelWithProjection(CLIPVisionConfig(
            hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
            num_attention_heads=16, image_size=224, patch_size=14, projection_dim=1024,
            hidden_act="gelu"))
        torch.manual_seed(SEED)
        parts["unet"] = I2VGenXLUNet(sample_size=32)  # diffusers' defaults: the released config
        torch.manual_seed(SEED)
        parts["vae"] = AutoencoderKL(
            block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
            down_block_types=["DownEncoderBlock2D"] * 4,
            up_block_types=["UpDecoderBlock2D"] * 4, sample_size=768, scaling_factor=0.18215)
    for name in ("text_encoder", "image_encoder", "unet", "vae"):
        parts[name].to(dtype=dtype).eval()  # type: ignore[attr-defined]
    return dict(parts, tokenizer=tokenizer, scheduler=DDIMScheduler(**SCHEDULER),
                feature_extractor=CLIPImageProcessor(crop_size=224, size=224))


def tiny_components(device: torch.device | str = "cpu",
                    dtype: torch.dtype = torch.float32) -> dict[str, object]:
    """The tiny model's parts in memory, on `device` (the same weights as the saved one)."""
    with tempfile.TemporaryDirectory() as scratch, torch.device(device):
        parts = _tiny_components(Path(scratch))
    for name in ("text_encoder", "image_encoder", "unet", "vae"):
        parts[name].to(dtype=dtype).eval()  # type: ignore[attr-defined]
    return parts


RANDOM_MODELS: dict[str, Callable[..., dict[str, object]]] = {
    "tiny": tiny_components, "synthetic": synthetic_components}


def random_pipeline(name: str, pipeline_class: Any, device: torch.device | str = "cpu",
                    dtype: torch.dtype = torch.float32) -> Any:
    """`pipeline_class` (I2VGenXLPipeline or a subclass) on the random "tiny" or "synthetic"
    model, built in memory on `device`."""
    return pipeline_class(**RANDOM_MODELS[name](device, dtype))


def _build(path: Path, components: Callable[[Path], dict[str, object]]) -> Path:
    from diffusers import I2VGenXLPipeline

    with tempfile.TemporaryDirectory() as scratch:
        pipe = I2VGenXLPipeline(**components(Path(scratch)))  # type: ignore[arg-type]
        pipe.save_pretrained(path)
    return path


def build_tiny_pipeline(path: Path) -> Path:
    """Build the tiny pipeline into `path` (deterministic: the same weights every time)."""
    return _build(path, _tiny_components)


def ensure_tiny_pipeline(models_dir: Path) -> Path:
    return ensure_built(models_dir, CARD.files.tiny, build_tiny_pipeline)
