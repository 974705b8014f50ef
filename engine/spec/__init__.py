"""The torch-free vocabulary the core shares with the GPU side: generation parameters, the
models' cards and their registry, what crosses the GPU-work boundary (render specs, events,
videos), the engine's refusals and the photo header check.

The one part of `engine/` that `bot/` may import (tests/bot/test_boundaries.py checks it).
Nothing here imports torch or diffusers.
"""
