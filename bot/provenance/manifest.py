"""What a video's C2PA manifest says, as the manifest definition c2pa's Builder takes.

A new clip: one `c2pa.created` action, digital source type trainedAlgorithmicMedia, the
software agent naming the model and the bot's version, the time, the parameters that made
it. An extension: `c2pa.opened` of the video it continues (the parent ingredient, whose own
manifest comes along), then `c2pa.edited` by the model. The person's prompt (and photo, an
ingredient added by the signer) only when the operator asked for them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from engine.spec.params import GenParams

AI_MADE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
PARENT = "parent"  # the ingredient label of the video an extension continues
PHOTO = "photo"  # the ingredient label of the person's photo (I2V_PROVENANCE_PROMPT)
GENERATOR = "i2v-bot"


@dataclass(frozen=True)
class Made:
    """One video, as the manifest describes it."""

    job_id: str
    params: GenParams  # as run
    weights: str  # the model's weights as the operator named them (a Hub id, a folder name)
    when: datetime.datetime
    continues: str | None = None  # the job id of the video an extension continues
    has_parent: bool = False  # that video is there and becomes the parent ingredient
    has_photo: bool = False  # the photo is an ingredient (I2V_PROVENANCE_PROMPT)
    with_prompt: bool = False


def manifest(made: Made, title: str, version: str) -> dict[str, Any]:
    agent = {"name": f"{made.params.card.title} ({made.params.model}) in {GENERATOR}",
             "version": version}
    made_by_ai: dict[str, Any] = {"digitalSourceType": AI_MADE, "softwareAgent": agent,
                                  "when": made.when.isoformat(timespec="seconds"),
                                  "parameters": parameters(made)}
    if made.continues is None:
        actions = [{"action": "c2pa.created", **made_by_ai}]
    elif made.has_parent:
        actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT]}},
                   {"action": "c2pa.edited", "description": "continued from its last frame",
                    **made_by_ai}]
    else:  # the video it continues was deleted meanwhile: this one is still all made by AI
        actions = [{"action": "c2pa.created", "description":
                    f"continues the video of job {made.continues}", **made_by_ai}]
    return {"claim_generator_info": [{"name": GENERATOR, "version": version}],
            "title": title, "format": "video/mp4",
            "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}}]}


def parameters(made: Made) -> dict[str, Any]:
    """What made the video, beside the action: enough to tell the model and to make it
    again, nothing of the person unless asked."""
    p = made.params
    values: dict[str, Any] = {
        "model": p.model, "model_title": p.card.title, "weights": made.weights,
        "job": made.job_id, "preset": p.preset, "width": p.width, "height": p.height,
        "frames": p.frames, "fps": p.fps, "steps": p.steps, "guidance": p.guidance,
        "seed": p.seed}
    if p.loop:
        values["loop"] = p.loop
    if p.smooth_fps:
        values["smooth_fps"] = p.smooth_fps
    if p.fast:
        values["fast"] = True
    if made.continues is not None:
        values["continues_job"] = made.continues
    if made.with_prompt:
        values["prompt"] = p.prompt
        if p.negative_prompt:
            values["negative_prompt"] = p.negative_prompt
    if made.has_photo:
        values["ingredientIds"] = [PHOTO]
    return values
