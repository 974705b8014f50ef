"""Applies a plan of StepKinds (fast.py) to the UNet calls of one pipeline call.

The pipeline calls the UNet once per step with both guidance halves in one batch; hooks on
the UNet count the calls and, for each step's kind:
- drop the unconditional half of the inputs when the step is not guided, and hand the
  conditional prediction back twice, so that the pipeline's `u + g * (c - u)` gives `c`
  exactly;
- run the full UNet and keep its deep features, or only the shallow branch (DeepCache);
- let cross-attention run, record it, or reuse it (T-GATE).
The pipeline itself is left as diffusers wrote it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from engine.models.i2vgen_xl.attention_gate import gated
from engine.models.i2vgen_xl.deep_cache import DeepCache
from engine.models.i2vgen_xl.fast import StepKind
from engine.spec.errors import InternalError

# The UNet inputs that carry the batch (both guidance halves) in I2VGen-XL.
BATCHED_INPUTS = ("encoder_hidden_states", "fps", "image_latents", "image_embeddings")


class StepCuts:
    def __init__(self, unet: torch.nn.Module, plan: Sequence[StepKind], doubled: bool) -> None:
        self.plan = list(plan)
        self.doubled = doubled  # the pipeline batches both guidance halves in each call
        self.index = -1
        self.deep = DeepCache(unet) if any(not k.full for k in plan) else None
        self._step: contextlib.ExitStack | None = None
        self._sliced = False

    @property
    def kind(self) -> StepKind:
        return self.plan[max(0, min(self.index, len(self.plan) - 1))]

    @property
    def batch_doubled(self) -> bool:
        """Whether the UNet's batch in the current step holds both guidance halves."""
        return self.doubled and self.kind.guided

    def before(self, module: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        self.index += 1
        if self.index >= len(self.plan):
            raise InternalError(f"the UNet ran more than the {len(self.plan)} planned steps")
        self._end_step()
        kind = self.kind
        self._step = contextlib.ExitStack()
        if self.deep is not None:
            self._step.enter_context(self.deep.recording() if kind.full else self.deep.shallow())
        self._sliced = self.doubled and not kind.guided
        if not self._sliced:
            return None
        sample, *rest = args
        kwargs = {k: (_second_half(v) if k in BATCHED_INPUTS else v) for k, v in kwargs.items()}
        return (_second_half(sample), *rest), kwargs

    def after(self, module: Any, args: Any, output: Any) -> Any:
        self._end_step()
        if not self._sliced:
            return None
        if isinstance(output, tuple):
            return (torch.cat([output[0], output[0]]), *output[1:])
        output.sample = torch.cat([output.sample, output.sample])
        return output

    def _end_step(self) -> None:
        if self._step is not None:
            self._step.close()
            self._step = None


def _second_half(value: Any) -> Any:
    """The conditional half of a batched input (the pipeline puts it second)."""
    if isinstance(value, torch.Tensor) and value.ndim > 0:
        return value[value.shape[0] // 2:]
    return value


@contextlib.contextmanager
def step_cuts(unet: torch.nn.Module, plan: Sequence[StepKind],
              doubled: bool) -> Iterator[StepCuts | None]:
    """Around one pipeline call of len(plan) steps. `doubled`: guidance is on, so the pipeline
    batches both halves. A plan of plain steps installs nothing."""
    if all(kind == StepKind() for kind in plan):
        yield None
        return
    cuts = StepCuts(unet, plan, doubled)
    hooks = [unet.register_forward_pre_hook(cuts.before, with_kwargs=True),
             unet.register_forward_hook(cuts.after)]
    with contextlib.ExitStack() as stack:
        if any(kind.cross_attention != "live" for kind in plan):
            stack.enter_context(gated(unet, lambda: cuts.kind.cross_attention,
                                      lambda: cuts.batch_doubled))
        try:
            yield cuts
        finally:
            cuts._end_step()  # a step cut short (cancelled, out of memory) restores the UNet
            for hook in hooks:
                hook.remove()


@contextlib.contextmanager
def eager_unet(pipe: Any, plan: Sequence[StepKind]) -> Iterator[None]:
    """A call with cuts runs the uncompiled UNet: torch.compile traces a graph once and does
    not see hooks added later (dynamo skips hook guards) nor forwards swapped per step."""
    eager = getattr(pipe.unet, "_orig_mod", None)
    if eager is None or all(kind == StepKind() for kind in plan):
        yield
        return
    compiled = pipe.unet
    pipe.unet = eager
    try:
        yield
    finally:
        pipe.unet = compiled
