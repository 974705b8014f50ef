"""Wan 2.2 TI2V-5B through diffusers' WanImageToVideoPipeline."""
