"""Random-weight Wan 2.2 TI2V-5B pipelines built from configs, never downloaded.

As engine/models/i2vgen_xl/tiny.py does for I2VGen-XL: "tiny" runs a CPU test in a second and is
saved with `save_pretrained` so it loads through the real loader; "synthetic" is the
released architecture (5 B transformer, UMT5-XXL, the 16x VAE) for honest FLOP counts and
GPU benchmarks. The tokenizer is byte-level and made here: no Hub download.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from engine.models.wan.card import CARD
from engine.random_weights import SEED, ensure_built

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"

# Wan-AI/Wan2.2-TI2V-5B-Diffusers' scheduler: UniPC on flow-matching sigmas, shift 5 (720p).
SCHEDULER = dict(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0,
                 num_train_timesteps=1000)


def umt5_byte_tokenizer(max_length: int = 512) -> Any:
    """A T5-style fast tokenizer whose vocabulary is the 256 bytes (plus pad, eos, unk)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: i for i, token in enumerate([PAD, EOS, UNK, *sorted(alphabet)])}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", special_tokens=[(EOS, vocab[EOS])])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=PAD, eos_token=EOS,
                                   unk_token=UNK, model_max_length=max_length)


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _configs(name: str, vocab: int) -> dict[str, dict[str, Any]]:
    if name == "tiny":
        return dict(
            text=dict(vocab_size=vocab, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2,
                      relative_attention_num_buckets=8, relative_attention_max_distance=16),
            transformer=dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8,
                             in_channels=48, out_channels=48, text_dim=16, freq_dim=32,
                             ffn_dim=32, num_layers=2, rope_max_seq_len=32),
            vae=dict(base_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1))
    # The released TI2V-5B: transformer 30 x 3072 wide, UMT5-XXL, VAE 160/256 wide.
    return dict(
        text=dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24,
                  num_heads=64, relative_attention_num_buckets=32,
                  relative_attention_max_distance=128, feed_forward_proj="gated-gelu"),
        transformer=dict(patch_size=(1, 2, 2), num_attention_heads=24, attention_head_dim=128,
                         in_channels=48, out_channels=48, text_dim=4096, freq_dim=256,
                         ffn_dim=14336, num_layers=30, rope_max_seq_len=1024),
        vae=dict(base_dim=160, decoder_base_dim=256, dim_mult=[1, 2, 4, 4], num_res_blocks=2))


def wan_components(name: str, device: torch.device | str = "cpu",
                   dtype: torch.dtype = torch.float32,
                   text_layers: int | None = None) -> dict[str, Any]:
    """The parts of WanImageToVideoPipeline for the "tiny" or "synthetic" model, seeded (the
    same weights every build), made on `device`; the VAE stays fp32 as for the real one.
    `text_layers`: fewer UMT5 layers than the model's (a CPU benchmark whose RAM holds the
    transformer and the VAE but not UMT5-XXL's 11 GB as well)."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = umt5_byte_tokenizer()
    config = _configs(name, len(tokenizer))
    if text_layers is not None:
        config["text"]["num_layers"] = text_layers
    with torch.device(device):
        # Made in their final precision: the full-size transformer and UMT5 made in fp32
        # first would need twice their memory (43 GB) for a moment.
        with default_dtype(dtype):
            torch.manual_seed(SEED)
            text_encoder = UMT5EncoderModel(UMT5Config(
                **config["text"], pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=0))
            torch.manual_seed(SEED)
            transformer = WanTransformer3DModel(**config["transformer"], cross_attn_norm=True,
                                                qk_norm="rms_norm_across_heads", eps=1e-6)
        torch.manual_seed(SEED)
        vae = AutoencoderKLWan(
            **config["vae"], z_dim=48, in_channels=12, out_channels=12, is_residual=True,
            patch_size=2, scale_factor_spatial=16, scale_factor_temporal=4,
            temperal_downsample=[False, True, True], latents_mean=[0.0] * 48,
            latents_std=[1.0] * 48)
    text_encoder.to(dtype=dtype).eval()
    transformer.eval()
    # Cast as from_pretrained does: the parts the model keeps in fp32 (norms, time
    # embedding, rope) stay there.
    keep = set(transformer._keep_in_fp32_modules or ())
    for name, tensor in [*transformer.named_parameters(), *transformer.named_buffers()]:
        if tensor.is_floating_point():
            fp32 = keep & set(name.split("."))
            tensor.data = tensor.data.to(torch.float32 if fp32 else dtype)
    vae.eval()
    return dict(tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer,
                vae=vae, scheduler=UniPCMultistepScheduler(**SCHEDULER), image_encoder=None,
                image_processor=None, transformer_2=None, boundary_ratio=None,
                expand_timesteps=True)


def build_tiny_wan(path: Path) -> Path:
    from diffusers import WanImageToVideoPipeline

    WanImageToVideoPipeline(**wan_components("tiny")).save_pretrained(path)
    return path


def ensure_tiny_wan(models_dir: Path) -> Path:
    return ensure_built(models_dir, CARD.files.tiny, build_tiny_wan)

