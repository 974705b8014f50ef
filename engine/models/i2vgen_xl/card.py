"""I2VGen-XL's card: the seeds' presets, ranges and tested recipes, on a 64-pixel grid.

Its text encoder is OpenAI's CLIP ViT-H, trained on English captions: other languages are
translated before it reads them. Its scheduler is DDIM, whose eta diffusers defaults to 0.
"""

from __future__ import annotations

from engine.spec.cards import ModelCard, Preset, Recipe, WeightFiles, presets, recipes

CARD = ModelCard(
    name="i2vgen-xl",
    title="I2VGen-XL",
    hub_id="ali-vilab/i2vgen-xl",
    license="MIT",
    needs="2.5 B parameters, 5 GB of weights in fp16; 12-14 GB of GPU memory at 512p",
    engine="engine.models.i2vgen_xl.engine:I2VGenXLEngine",
    weights_setting="I2V_MODEL",
    files=WeightFiles(tiny="tiny-i2vgen-xl",
                      probes=("model_index.json",
                              "unet/diffusion_pytorch_model.fp16.safetensors"),
                      download="about 4.6 GB"),
    presets=presets(
        Preset("preview", "512p", 8, 8, 30, 9.0),
        Preset("standard", "512p", 16, 8, 50, 9.0),
        Preset("high", "768p", 24, 12, 80, 9.0),
        Preset("max", "1024p", 32, 12, 100, 9.0),
    ),
    resolutions={"256p": 256, "512p": 512, "768p": 768, "1024p": 1024},
    multiple=64,
    frames=(8, 32),
    frame_step=1,
    fps=(4, 24),
    steps=(10, 100),
    guidance=(1.0, 20.0),
    fast=True,
    # The speed mode: 0.229 of stock's FLOPs per standard video (benchmarks/RESULTS.md),
    # priced at a quarter.
    fast_share=0.25,
    aliases=("i2vgen", "i2vgenxl"),
    english_prompts=True,
    eta=(0.0, 1.0),
    stiff_guidance=10.0,  # the seeds: 9 is the critical point, 10-12 stiffens the motion
    # The seeds' appendix: a person walking, waves on a shore, a cat turning its head.
    recipes=recipes(
        Recipe("walking", 640, 384, 16, 8, 60, 9.0,
               "A person is walking forward naturally, arms swinging gently"),
        Recipe("waves", 768, 448, 24, 12, 70, 8.5,
               "Ocean waves are crashing on the shore, foam is bubbling"),
        Recipe("turning", 512, 512, 16, 8, 65, 10.0,
               "A cat is turning its head slowly to the right, ears twitching"),
    ),
)
