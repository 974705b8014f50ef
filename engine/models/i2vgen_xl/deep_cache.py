"""DeepCache for the I2VGen-XL UNet: deep features reused across neighbouring steps.

Ma et al. ("DeepCache: Accelerating Diffusion Models for Free", CVPR 2024) observe that a
U-Net's deep features change little from one step to the next. On a full step the whole
UNet runs and the input of the last layer of the last up block is kept; on a shallow step
only the shallowest branch runs (the input convolution, its temporal transformer, and that
last layer, which gets the fresh skip connection from the input convolution) on top of the
kept features. This is their branch 0, the cheapest, which they use for Stable Diffusion.

Everything else the UNet does on a shallow step is skipped by swapping the `forward` of the
deep blocks for ones that return placeholders, for that call only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch

from engine.spec.errors import InternalError


class DeepCache:
    """The kept deep features of one pipeline call."""

    def __init__(self, unet: torch.nn.Module) -> None:
        self.unet = unet
        last = unet.up_blocks[-1]
        if not hasattr(last, "temp_attentions") or len(last.resnets) < 2:
            raise InternalError("DeepCache needs a UNet whose last up block is a "
                                "CrossAttnUpBlock3D with two layers or more")
        self.last = last
        self.features: torch.Tensor | None = None

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Around a full step: keep the input of the last up block's last layer (the output of
        its second to last layer)."""

        def keep(module: Any, args: Any, output: Any) -> None:
            self.features = output[0]

        hook = self.last.temp_attentions[-2].register_forward_hook(keep)
        try:
            yield
        finally:
            hook.remove()

    @contextlib.contextmanager
    def shallow(self) -> Iterator[None]:
        """Around a shallow step: the deep blocks return placeholders and the last up block
        runs only its last layer, on the kept features."""
        if self.features is None:
            raise InternalError("a DeepCache shallow step came before any full step")
        unet = self.unet
        swaps: list[tuple[torch.nn.Module, Callable[..., Any]]] = []
        for block in unet.down_blocks:
            swaps.append((block, _skipped_down(block)))
        swaps.append((unet.mid_block, _passthrough))
        for block in unet.up_blocks[:-1]:
            swaps.append((block, _passthrough))
        swaps.append((self.last, self._last_layer))
        for module, forward in swaps:
            module.forward = forward
        try:
            yield
        finally:
            for module, _ in swaps:
                del module.forward  # back to the class's method

    def _last_layer(self, hidden_states: torch.Tensor,
                    res_hidden_states_tuple: tuple[torch.Tensor, ...],
                    temb: torch.Tensor | None = None,
                    encoder_hidden_states: torch.Tensor | None = None,
                    num_frames: int = 1, cross_attention_kwargs: dict[str, Any] | None = None,
                    **_: Any) -> torch.Tensor:
        """The body of CrossAttnUpBlock3D's loop for its last layer, whose skip connection is
        the first of the tuple (the input convolution's output)."""
        block = self.last
        assert self.features is not None
        hidden = torch.cat([self.features, res_hidden_states_tuple[0]], dim=1)
        hidden = block.resnets[-1](hidden, temb)
        hidden = block.temp_convs[-1](hidden, num_frames=num_frames)
        hidden = block.attentions[-1](hidden, encoder_hidden_states=encoder_hidden_states,
                                      cross_attention_kwargs=cross_attention_kwargs,
                                      return_dict=False)[0]
        hidden = block.temp_attentions[-1](hidden, num_frames=num_frames,
                                           cross_attention_kwargs=cross_attention_kwargs,
                                           return_dict=False)[0]
        for upsampler in block.upsamplers or ():
            hidden = upsampler(hidden)
        return hidden


def _passthrough(hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return hidden_states


def _skipped_down(block: torch.nn.Module) -> Callable[..., Any]:
    """A down block's stand-in: as many skip connections as the real one (the up blocks count
    them), all placeholders."""
    outputs = len(block.resnets) + (1 if block.downsamplers else 0)

    def forward(hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return hidden_states, (hidden_states,) * outputs

    return forward
