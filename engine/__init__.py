"""The GPU side of i2v-bot: photo checks and framing, the diffusers pipelines, MP4 output.

    spec/          torch-free vocabulary shared with the core (the only part bot/ imports)
    models/<name>/ one folder a model: card, engine, tiny builder, its own speed-ups
    base.py        the engine every model's subclasses: batching, seeds, out-of-memory
    worker.py      spec in, MP4 out (a thread in the bot, or `i2vbot worker`)
    images.py, video.py, effects.py, frames.py, decode.py, loader.py: shared steps

Imports nothing from `bot/` or `adapters/`. Deliberately empty: importing `engine.spec`
must not pull torch in; what runs a model imports its engine itself.
"""
