"""Speed benchmarks of the engine, kept out of the serving package `engine/`.

They import `engine` and nothing of `bot/` or `adapters/`, so that they run on a bare GPU
machine with only torch, transformers, diffusers and imageio-ffmpeg (see benchmarks/README.md).
"""
