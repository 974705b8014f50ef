"""The GPU side of i2v-bot: photo checks and framing, the diffusers pipelines, MP4 output.

Imports nothing from `bot/` or `adapters/`. Deliberately empty: `import engine.params` (pure
data) must not pull torch in; what runs the model imports `engine.generator` itself.
"""
