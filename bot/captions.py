"""Caption grammar: free text is the prompt, `--flags` override the preset.

    a cat turning its head slowly --preset high --seed 7 --neg blurry, dark

`--neg` takes every word up to the next flag; every other flag takes one value, written
`--flag value` or `--flag=value`. A leading `/animate` or `/animate@botname` is dropped.
Phones often turn `--` into an em dash, so `—seed` is read as `--seed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.errors import UserError
from engine.errors import Rejected
from engine.models import CARDS, DEFAULT_MODEL
from engine.params import (
    FPS,
    FRAMES,
    GUIDANCE,
    PRESETS,
    RESOLUTIONS,
    SEED,
    STEPS,
    card,
)

# Every model's resolutions: the model chosen (perhaps later in the caption) checks its own.
ALL_RESOLUTIONS = list(dict.fromkeys(r for c in CARDS.values() for r in c.resolutions))

MAX_CAPTION_CHARS = 2000

FLAG_HELP = {
    "--preset": f"one of {', '.join(PRESETS)}",
    "--model": f"one of {', '.join(CARDS)}",
    "--seed": f"a whole number {SEED[0]}-{SEED[1]}",
    "--frames": f"{FRAMES[0]}-{FRAMES[1]}",
    "--fps": f"{FPS[0]}-{FPS[1]}",
    "--steps": f"{STEPS[0]}-{STEPS[1]}",
    "--guidance": f"{GUIDANCE[0]}-{GUIDANCE[1]} (alias --gs)",
    "--neg": "words to avoid, e.g. --neg blurry, distorted",
    "--size": "WIDTHxHEIGHT in multiples of 64, e.g. 640x384",
    "--res": "/".join(RESOLUTIONS) + "".join(f" ({c.name}: {'/'.join(c.resolutions)})"
                                             for c in CARDS.values() if c.name != DEFAULT_MODEL),
    "--loop": "nothing: a video that loops seamlessly",
    "--smooth": "nothing: smoother motion at a higher frame rate",
    "--fast": "nothing: about a quarter of the compute, a different video",
    "--extend": "the job id of your video to continue, e.g. --extend abc234",
}
SWITCHES = {"--loop": "loop", "--smooth": "smooth", "--fast": "fast"}  # flags without a value
ALIASES = {"--gs": "--guidance", "--negative": "--neg", "--resolution": "--res"}
INT_FLAGS = {"--seed": "seed", "--frames": "frames", "--fps": "fps", "--steps": "steps"}

_COMMAND = re.compile(r"^/animate(@\w+)?(\s+|$)", re.IGNORECASE)
_DASHES = re.compile(r"(^|\s)[—–]", re.UNICODE)


@dataclass(frozen=True)
class ParsedCaption:
    prompt: str
    preset: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    loop: bool = False
    smooth: bool = False
    fast: bool = False
    extend: str | None = None  # the job whose video to continue
    model: str | None = None  # a card name of engine/models.py


def parse_caption(caption: str | None) -> ParsedCaption:
    text = (caption or "").strip()
    if len(text) > MAX_CAPTION_CHARS:
        raise UserError("caption_too_long", length=len(text), limit=MAX_CAPTION_CHARS)
    text = _COMMAND.sub("", text, count=1)
    text = _DASHES.sub(r"\1--", text)
    prompt_words: list[str] = []
    preset: str | None = None
    overrides: dict[str, Any] = {}
    switches: set[str] = set()
    extend: str | None = None
    model: str | None = None
    tokens = text.split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--") or token == "--":
            prompt_words.append(token)
            continue
        flag, eq, value = token.partition("=")
        flag = ALIASES.get(flag.lower(), flag.lower())
        if flag not in FLAG_HELP:
            raise UserError("unknown_flag", flag=flag, options=", ".join(FLAG_HELP))
        if flag in SWITCHES:
            if eq:
                raise _bad_value(flag, value)
            switches.add(SWITCHES[flag])
            continue
        if flag == "--neg":
            words = [value] if eq and value else []
            while i < len(tokens) and not tokens[i].startswith("--"):
                words.append(tokens[i])
                i += 1
            overrides["negative_prompt"] = " ".join(words)
            continue
        if not eq:
            if i >= len(tokens) or tokens[i].startswith("--"):
                raise _bad_value(flag, "")
            value = tokens[i]
            i += 1
        if flag == "--preset":
            if value.lower() not in PRESETS:
                raise _bad_value(flag, value)
            preset = value.lower()
        elif flag == "--model":
            try:
                model = card(value).name
            except Rejected:
                raise _bad_value(flag, value) from None
        elif flag == "--extend":
            extend = value.strip().lstrip("#").lower()
        else:
            overrides.update(_parse_value(flag, value))
    return ParsedCaption(" ".join(prompt_words), preset, overrides, loop="loop" in switches,
                         smooth="smooth" in switches, fast="fast" in switches, extend=extend,
                         model=model)


def _parse_value(flag: str, value: str) -> dict[str, Any]:
    try:
        if flag in INT_FLAGS:
            return {INT_FLAGS[flag]: int(value)}
        if flag == "--guidance":
            return {"guidance": float(value)}
        if flag == "--res":
            res = value.lower() if value.lower().endswith("p") else f"{value}p"
            if res not in ALL_RESOLUTIONS:
                raise ValueError
            return {"resolution": res}
        if flag == "--size":
            w, h = value.lower().replace("×", "x").split("x")
            return {"width": int(w), "height": int(h)}
    except ValueError:
        pass
    raise _bad_value(flag, value)


def _bad_value(flag: str, value: str) -> UserError:
    return UserError("bad_flag_value", flag=flag, expected=FLAG_HELP[flag],
                     value=f"'{value}'" if value else "nothing")
