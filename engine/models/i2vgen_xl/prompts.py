"""Prompt embeddings computed by us, not by the pipeline.

The pipeline's own `clip_skip=1` path reads `text_encoder.text_model`, which transformers
>= 5.6 removed, so it crashes. We do what it meant (penultimate hidden state, then the
final layer norm) and hand the pipeline `prompt_embeds`. Owning the step also lets us keep
recent encodings: the negative prompt is nearly always the same.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

import torch

logger = logging.getLogger(__name__)


class PromptEncoder:
    def __init__(self, pipe: Any, device: torch.device, size: int = 32) -> None:
        self._pipe = pipe
        self._device = device  # where the embeddings must end up (the UNet's device)
        self._size = size
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> torch.Tensor:
        """Embeddings of shape (1, 77, width) for one prompt."""
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        embeds = self.encode(text)
        with self._lock:
            self._cache[text] = embeds
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return embeds

    @torch.no_grad()
    def encode(self, text: str) -> torch.Tensor:
        tokenizer, encoder = self._pipe.tokenizer, self._pipe.text_encoder
        ids = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length,
                        truncation=True, return_tensors="pt").input_ids
        if len(tokenizer(text).input_ids) > tokenizer.model_max_length:
            logger.info("prompt longer than %d tokens was truncated", tokenizer.model_max_length)
        # With cpu offload the encoder's own weights may sit on the CPU until its hook runs.
        out = encoder(ids.to(self._pipe._execution_device), output_hidden_states=True)
        hidden = out.hidden_states[-2]  # clip_skip=1: the layer before the last
        # Older transformers nest the layers under `.text_model`; newer ones do not.
        final_norm = getattr(encoder, "text_model", encoder).final_layer_norm
        return final_norm(hidden).to(device=self._device, dtype=encoder.dtype)
