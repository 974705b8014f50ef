"""The pan model's card: a camera that glides across the photo. Plain data, like every card."""

from __future__ import annotations

from engine.spec.cards import ModelCard, Preset, WeightFiles, presets

CARD = ModelCard(
    name="pan",
    title="Pan (a test model)",
    hub_id="example/pan",
    license="MIT",
    needs="no weights, no GPU",
    engine="tests.models.pan.engine:PanEngine",
    weights_setting="I2V_PAN_MODEL",
    files=WeightFiles(tiny="tiny-pan", probes=(), download="nothing"),
    presets=presets(Preset("preview", "256p", 4, 4, 2, 1.0),
                    Preset("standard", "256p", 6, 6, 3, 1.0)),
    resolutions={"256p": 256},
    multiple=16,
    frames=(4, 12),
    frame_step=1,
    fps=(4, 12),
    steps=(1, 8),
    guidance=(1.0, 1.0),
    cost_factor=0.01,
    max_batch=2,
)
