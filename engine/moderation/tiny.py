"""Random-weight stand-ins for the moderation classifier, built from configs, never
downloaded, saved and loaded like the real one (a ViT image classifier and its processor).

"tiny" is a ViT of a few hundred weights that are set, not learned, so that its decisions
can be steered: its patch embedding reads each patch's mean colour, its one attention layer
(queries and keys zero, so every token attends to all alike) averages the patches into the
class token, its MLP adds nothing, and a fixed head scores "nsfw" by how far red outweighs
green. A picture that is mostly strong red (about 85% of it or more) is refused at the
default threshold; gradients, greys and everyday colours pass. Tests steer it by a photo's
colour, and `I2V_MODEL=tiny` shows what a refusal looks like without downloading anything.

"synthetic" has the default classifier's architecture (ViT-Base/16 at 224x224, 86 M
parameters) with random weights and a head that always answers "normal": the real cost and
never a refusal, for benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.random_weights import SEED, ensure_built

TINY = "tiny-moderation"
LABELS = {0: "normal", 1: "nsfw"}
HIDDEN = 8
RED_GAIN, RED_BIAS = 24.0, 20.0  # logit(nsfw) - logit(normal) = gain * (red - green) - bias


def _labelled(**config: Any) -> Any:
    from transformers import ViTConfig

    return ViTConfig(id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
                     problem_type="single_label_classification", **config)


def _processor(side: int) -> Any:
    # The PIL backend: what the Hub's ViT processors load as without torchvision.
    from transformers import ViTImageProcessorPil

    return ViTImageProcessorPil(size={"height": side, "width": side}, resample=2,
                                image_mean=[0.5] * 3, image_std=[0.5] * 3)


def build_tiny(folder: Path) -> Path:
    from transformers import ViTForImageClassification
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Writing model shards" bar in the logs
    # A layer-norm epsilon of 1 keeps how strong a colour is, not only its direction.
    config = _labelled(hidden_size=HIDDEN, num_hidden_layers=1, num_attention_heads=1,
                       intermediate_size=HIDDEN, image_size=32, patch_size=8,
                       layer_norm_eps=1.0)
    model = ViTForImageClassification(config).eval()
    with torch.no_grad():
        for weight in model.parameters():
            weight.zero_()
        patches = model.vit.embeddings.patch_embeddings.projection
        for channel in range(3):  # hidden units 0, 1, 2: the patch's mean red, green, blue
            patches.weight[channel, channel] = 1.0 / (8 * 8)
        layer = model.vit.layers[0]
        for norm in (layer.layernorm_before, layer.layernorm_after, model.vit.layernorm):
            norm.weight.fill_(1.0)
        layer.attention.v_proj.weight.copy_(torch.eye(HIDDEN))
        layer.attention.o_proj.weight.copy_(torch.eye(HIDDEN))
        model.classifier.weight[1, 0] = RED_GAIN
        model.classifier.weight[1, 1] = -RED_GAIN
        model.classifier.bias[1] = -RED_BIAS
    model.save_pretrained(folder)
    _processor(32).save_pretrained(folder)
    return folder


def ensure_tiny_classifier(models_dir: Path) -> Path:
    """The tiny classifier's folder, built on first use."""
    return ensure_built(models_dir, TINY, build_tiny, marker="config.json")


def synthetic_classifier() -> tuple[Any, Any]:
    """The default classifier's architecture with random weights, in memory: (model,
    image processor)."""
    from transformers import ViTForImageClassification

    torch.manual_seed(SEED)
    model = ViTForImageClassification(_labelled()).eval()  # ViTConfig's defaults: ViT-B/16
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([10.0, -10.0]))  # always "normal"
    return model, _processor(224)
