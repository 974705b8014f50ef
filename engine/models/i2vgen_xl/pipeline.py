"""The I2VGen-XL pipeline with per-job image-latent noise.

Upstream samples the VAE posterior of the first frame with the global RNG for the whole
batch at once, so `generator=` alone is not reproducible and a job's video would depend on
the jobs batched with it. Here each image is encoded on its own and its posterior sampled
with its own generator, so a job gives the same frames alone or in a batch.

The DDIM step's noise (eta above 0) is drawn for batch x frames latents at once; given one
generator per video, diffusers' randn_tensor wants one per latent. `step_generators` holds
each video's generator once per frame, in the order the pipeline flattens them (video by
video), so that noise too depends on the job alone.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import I2VGenXLPipeline


class SeededI2VGenXLPipeline(I2VGenXLPipeline):
    # Set by the engine around each call (under its lock): one generator per image, and the
    # same once per frame for the sampler's steps.
    image_generators: list[torch.Generator] | None = None
    step_generators: list[torch.Generator] | None = None

    def prepare_extra_step_kwargs(self, generator: Any, eta: float) -> dict[str, Any]:
        kwargs = super().prepare_extra_step_kwargs(generator, eta)
        if "generator" in kwargs and self.step_generators is not None:
            kwargs["generator"] = self.step_generators
        return kwargs

    def prepare_image_latents(self, image, device, num_frames, num_videos_per_prompt):  # type: ignore[no-untyped-def]
        generators = self.image_generators
        if generators is None:
            return super().prepare_image_latents(image, device, num_frames, num_videos_per_prompt)
        if len(generators) != image.shape[0]:
            raise ValueError(f"{len(generators)} generators for {image.shape[0]} images")
        image = image.to(device=device)
        samples = []
        for one, gen in zip(image.split(1), generators, strict=True):
            samples.append(self.vae.encode(one).latent_dist.sample(generator=gen))
        image_latents = torch.cat(samples) * self.vae.config.scaling_factor

        # From here on as upstream: frame 0 is the image, later frames a position ramp.
        image_latents = image_latents.unsqueeze(2)
        ramp = [torch.ones_like(image_latents[:, :, :1]) * (i + 1) / (num_frames - 1)
                for i in range(num_frames - 1)]
        if ramp:
            image_latents = torch.cat([image_latents, *ramp], dim=2)
        image_latents = image_latents.repeat(num_videos_per_prompt, 1, 1, 1, 1)
        if self.do_classifier_free_guidance:
            image_latents = torch.cat([image_latents] * 2)
        return image_latents
