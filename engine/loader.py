"""What every model's engine needs to find its weights and load them once onto the right
device in the right precision; each model's own loading is in its engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.config import DTYPES, EngineConfig
from engine.spec.cards import card
from engine.spec.errors import InternalError

logger = logging.getLogger(__name__)

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


@dataclass(frozen=True)
class LoadedPipeline:
    pipe: Any  # the model's diffusers pipeline; Any keeps diffusers out of the type surface
    device: torch.device
    dtype: torch.dtype
    source: str  # where the weights came from, for logs and `doctor`
    attention: str = "sdpa"  # the attention kernel in effect
    speedups: tuple[str, ...] = ()  # what apply_speedups switched on, for logs


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise InternalError(f"Unknown device '{name}': use auto, cuda, cuda:N, mps or cpu.") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InternalError(f"Device '{name}' was asked for but CUDA is not available "
                            "(no NVIDIA GPU or a CPU-only torch build).")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InternalError(f"Device '{name}' was asked for but MPS is not available.")
    return device


def pick_dtype(name: str, device: torch.device, cuda_auto: str = "fp16") -> torch.dtype:
    """`cuda_auto`: what "auto" means on a CUDA GPU (the model card's choice)."""
    if name not in DTYPES:
        raise InternalError(f"Unknown dtype '{name}': use one of {', '.join(DTYPES)}.")
    if name == "auto":
        # Half precision on CPU is slow or unsupported for many ops.
        return _DTYPES[cuda_auto] if device.type == "cuda" else torch.float32
    return _DTYPES[name]


SYNTHETIC_SOURCE = "synthetic (full size, random weights)"


def resolve_source(config: EngineConfig,
                   ensure_tiny: Callable[[Path], Path]) -> tuple[str, bool]:
    """The folder or Hub id to load from, and whether it is a local folder; "tiny" is built
    by `ensure_tiny` (the model's tiny builder) on first use. "synthetic" has none: each
    engine builds it in memory."""
    if config.model == "tiny":
        return str(ensure_tiny(config.models_dir)), True
    if config.model == "synthetic":
        return SYNTHETIC_SOURCE, True
    path = Path(config.model).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise InternalError(f"{path} has no model_index.json: it is not a diffusers "
                                "pipeline folder (save one with save_pretrained).")
        return str(path), True
    if path.is_absolute() or config.model.startswith((".", "~")):
        raise InternalError(f"Model folder {path} does not exist.")
    return config.model, False


def place(pipe: Any, config: EngineConfig, device: torch.device) -> None:
    """Onto the device, or sub-model by sub-model with cpu offload (CUDA only)."""
    if config.cpu_offload and device.type == "cuda":
        # Keeps only the running sub-model on the GPU: slower, but needs far less memory.
        pipe.enable_model_cpu_offload(device=device)
    else:
        if config.cpu_offload:
            logger.warning("cpu_offload only applies to CUDA; ignoring it on %s", device)
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)  # progress goes through our own callback


def from_pretrained(cls: Any, config: EngineConfig, source: str, local: bool,
                    dtype: torch.dtype, *, variant: str | None = "fp16",
                    **extra: Any) -> Any:
    """`cls.from_pretrained` with the cache, the variant and a one-line failure. `variant`:
    the Hub's half-precision files, taken when not loading fp32 (None: the repo has none)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    # Loading bars would interleave with the bot's own progress and logs.
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    kwargs: dict[str, Any] = {"dtype": dtype, **extra}
    if config.cache_dir is not None:
        kwargs["cache_dir"] = str(config.cache_dir)
    if not local and dtype != torch.float32 and variant:
        kwargs["variant"] = variant  # half the download; cast to bf16 on load if asked
    logger.info("loading %s as %s", source, dtype)
    try:
        return cls.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as e:
        if local:
            raise InternalError(f"the folder {source} does not hold a loadable pipeline "
                                f"({type(e).__name__})") from e
        raise InternalError(
            "it is not on this machine yet and the Hugging Face Hub could not be reached. "
            "Download it once with network access (the first run does that, "
            f"{card(config.family).files.download}), "
            "or set the model to a local folder saved with save_pretrained") from e


def model_status(config: EngineConfig) -> str:
    """One line for `doctor`: is the model on this machine? Never downloads."""
    if config.model == "synthetic":
        return "synthetic random-weight model, built in memory at each start (no download)"
    files = card(config.family).files
    if config.model == "tiny":
        folder = Path(config.models_dir) / files.tiny
        if (folder / "model_index.json").is_file():
            return f"tiny random-weight model built at {folder}"
        return f"tiny random-weight model will be built at {folder} on first use"
    path = Path(config.model).expanduser()
    if path.is_dir():
        found = (path / "model_index.json").is_file()
        return (f"local model folder {path}" if found
                else f"local folder {path} has no model_index.json: not a diffusers pipeline")
    if path.is_absolute() or config.model.startswith((".", "~")):
        return f"model folder {path} does not exist"
    from huggingface_hub import constants, try_to_load_from_cache

    cache = str(config.cache_dir) if config.cache_dir else constants.HF_HUB_CACHE
    found = [try_to_load_from_cache(config.model, f, cache_dir=cache) for f in files.probes]
    if all(isinstance(f, str) for f in found):
        return f"{config.model} found in the Hugging Face cache ({cache})"
    if isinstance(found[0], str):
        return (f"{config.model} is partly in the Hugging Face cache ({cache}); "
                "the rest downloads on first use")
    return (f"{config.model} is not downloaded yet: the first run downloads {files.download} "
            f"into {cache}")
