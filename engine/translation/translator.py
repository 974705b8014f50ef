"""Prompts to English on the worker, for models that read English only (I2VGen-XL's CLIP).

Chinese goes through Helsinki-NLP/opus-mt-zh-en, every other language through the
multilingual opus-mt-mul-en: small MarianMT models (about 78 M parameters, 310 MB each)
run by transformers on the engine's device. Each loads the first time a prompt needs it,
from the Hub into the Hugging Face cache like the video models, or from a local folder;
"tiny" is a small fitted model built locally for tests. A model that will not load is
logged and the prompt is used as written: one missing translator never fails a video.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from engine.loader import pick_device
from engine.spec.params import GenParams
from engine.translation.languages import ENGLISH, detect, warm

logger = logging.getLogger(__name__)

CHINESE_MODEL = "Helsinki-NLP/opus-mt-zh-en"
MULTILINGUAL_MODEL = "Helsinki-NLP/opus-mt-mul-en"
MAX_TOKENS = 512  # Marian's longest input and output
CACHE_SIZE = 256  # translations kept (a re-roll translates its prompt again)


@dataclass(frozen=True)
class TranslatorConfig:
    """Where the translation models come from: Hub ids, local folders, or "tiny"."""

    chinese: str = CHINESE_MODEL
    others: str = MULTILINGUAL_MODEL
    device: str = "auto"
    models_dir: Path = Path("data/models")  # where "tiny" is built
    cache_dir: Path | None = None  # Hugging Face cache override

    def source(self, language: str) -> str:
        """The model that translates `language` into English."""
        return self.chinese if language == "zh" else self.others


class Translator:
    def __init__(self, config: TranslatorConfig) -> None:
        self.config = config
        self._models: dict[str, tuple[Any, Any] | None] = {}  # source -> (tokenizer, model)
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()  # one load or generate at a time

    def warm(self) -> None:
        """Load the language detector (the models load when a prompt first needs them)."""
        warm()

    def for_model(self, params: GenParams) -> GenParams:
        """The job's parameters with its language and the English the model will read; the
        same parameters when the prompt is English already, or when translating failed
        (logged: a translation is never worth a person's video)."""
        try:
            return self._translated(params)
        except Exception:
            logger.exception("translating a prompt failed; the model reads it as written")
            return params

    def _translated(self, params: GenParams) -> GenParams:
        language = detect(params.prompt)
        prompt = self.english(params.prompt, language)
        negative = None
        if params.negative_prompt.strip():
            negative = self.english(params.negative_prompt, detect(params.negative_prompt))
        return replace(params, prompt_language=language, translated_prompt=prompt,
                       translated_negative=negative)

    def english(self, text: str, language: str) -> str | None:
        """`text` in English, or None when it is English already or cannot be translated."""
        if language == ENGLISH:
            return None
        source = self.config.source(language)
        with self._lock:
            hit = self._cache.get((source, text))
            if hit is not None:
                self._cache.move_to_end((source, text))
                return hit
            loaded = self._load(source)
            if loaded is None:
                return None
            english = _translate(*loaded, text)
            self._cache[(source, text)] = english
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        logger.debug("translated a %s prompt to English: %r", language, english)
        return english

    def _load(self, source: str) -> tuple[Any, Any] | None:
        if source in self._models:
            return self._models[source]
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        path = self._path(source)
        kwargs: dict[str, Any] = {}
        if self.config.cache_dir is not None:
            kwargs["cache_dir"] = str(self.config.cache_dir)
        device = pick_device(self.config.device)
        logger.info("loading the translation model %s on %s", path, device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            model = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=torch.float32, **kwargs)
        except (OSError, ValueError, ImportError) as exc:
            # Remembered: a worker without the model does not retry the Hub at every job.
            logger.error("the translation model %s could not be loaded (%s: %s); prompts it "
                         "would translate are used as written", path, type(exc).__name__, exc)
            self._models[source] = None
            return None
        self._models[source] = (tokenizer, model.to(device).eval())
        return self._models[source]

    def _path(self, source: str) -> str:
        if source == "tiny":
            from engine.translation.tiny import ensure_tiny_translator

            return str(ensure_tiny_translator(self.config.models_dir))
        return str(Path(source).expanduser()) if Path(source).expanduser().is_dir() else source

    def status(self) -> list[str]:
        """One line per model for `doctor`: on this machine or not. Never downloads."""
        return [f"{what}: {model_status(source, self.config)}"
                for what, source in (("Chinese", self.config.chinese),
                                     ("other languages", self.config.others))]


@torch.inference_mode()
def _translate(tokenizer: Any, model: Any, text: str) -> str:
    inputs = tokenizer([text], return_tensors="pt", truncation=True, max_length=MAX_TOKENS)
    inputs = inputs.to(model.device)
    longest = min(MAX_TOKENS, model.config.max_position_embeddings)
    output = model.generate(**inputs, max_new_tokens=longest)
    return str(tokenizer.batch_decode(output, skip_special_tokens=True)[0]).strip()


def model_status(source: str, config: TranslatorConfig) -> str:
    if source == "tiny":
        from engine.translation.tiny import NAME

        folder = Path(config.models_dir) / NAME
        return f"tiny fitted model built at {folder}" if (folder / "config.json").is_file() \
            else f"tiny fitted model will be built at {folder} on first use"
    path = Path(source).expanduser()
    if path.is_dir():
        found = (path / "config.json").is_file()
        return f"local folder {path}" if found else f"local folder {path} has no config.json"
    from huggingface_hub import constants, try_to_load_from_cache

    cache = str(config.cache_dir) if config.cache_dir else constants.HF_HUB_CACHE
    if isinstance(try_to_load_from_cache(source, "config.json", cache_dir=cache), str):
        return f"{source} found in the Hugging Face cache"
    return f"{source} is not downloaded yet: the first prompt that needs it downloads 310 MB"
