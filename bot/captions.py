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
from engine.spec.cards import ModelCard, all_resolutions, card, cards, preset_names, recipe_names
from engine.spec.errors import Rejected
from engine.spec.params import SEED

MAX_CAPTION_CHARS = 2000


def _ranges(field: str) -> str:
    """A flag's range for each model, e.g. "8-32 (wan: 17-121)": the default model's first."""
    first, *rest = cards().values()
    lo, hi = getattr(first, field)
    others = [f"{c.name}: {getattr(c, field)[0]}-{getattr(c, field)[1]}" for c in rest
              if getattr(c, field) != getattr(first, field)]
    return f"{lo}-{hi}" + (f" ({', '.join(others)})" if others else "")


def _others(models: list[ModelCard]) -> dict[str, list[str]]:
    """The other models' resolutions, models sharing theirs named together."""
    grouped: dict[str, list[str]] = {}
    for model in models:
        grouped.setdefault("/".join(model.resolutions), []).append(model.name)
    return grouped


def flag_help() -> dict[str, str]:
    """What each flag takes, in words, from the cards (the ranges are each model's)."""
    first, *rest = cards().values()
    return {
        "--preset": f"one of {', '.join(preset_names())}",
        "--model": f"one of {', '.join(cards())}",
        "--seed": f"a whole number {SEED[0]}-{SEED[1]}",
        "--frames": _ranges("frames"),
        "--fps": _ranges("fps"),
        "--steps": _ranges("steps"),
        "--guidance": _ranges("guidance") + " (alias --gs)",
        "--neg": "words to avoid, e.g. --neg blurry, distorted",
        "--size": f"WIDTHxHEIGHT in multiples of {first.multiple}, e.g. 640x384",
        "--res": "/".join(first.resolutions) + "".join(
            f" ({', '.join(names)}: {res})" for res, names in _others(rest).items()),
        "--loop": "nothing: a video that loops seamlessly",
        "--smooth": "nothing: smoother motion at a higher frame rate",
        "--fast": "nothing: the model's speed mode, a half to a quarter of the compute",
        "--extend": "the job id of your video to continue, e.g. --extend abc234",
        "--focus": "nothing: the subject kept sharp, the background blurred",
        "--eta": "a number 0-1 (" + ", ".join(
            f"{c.name}: {c.eta[0]:g}-{c.eta[1]:g}" if c.eta else f"not for {c.name}"
            for c in cards().values()) + ")",
        "--recipe": f"one of {', '.join(recipe_names())}",
    }


FLAGS = ("--preset", "--model", "--seed", "--frames", "--fps", "--steps", "--guidance",
         "--neg", "--size", "--res", "--loop", "--smooth", "--fast", "--extend", "--focus",
         "--eta", "--recipe")
SWITCHES = {"--loop": "loop", "--smooth": "smooth", "--fast": "fast",
            "--focus": "focus"}  # flags without a value
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
    model: str | None = None  # a card's name (engine/spec/cards.py)
    focus: bool = False  # blur the background (its strength is the operator's setting)
    recipe: str | None = None  # a card's recipe, checked against the chosen model later


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
    recipe: str | None = None
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
        if flag not in FLAGS:
            raise UserError("unknown_flag", flag=flag, options=", ".join(FLAGS))
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
            if value.lower() not in preset_names():
                raise _bad_value(flag, value)
            preset = value.lower()
        elif flag == "--model":
            try:
                model = card(value).name
            except Rejected:
                raise _bad_value(flag, value) from None
        elif flag == "--extend":
            extend = value.strip().lstrip("#").lower()
        elif flag == "--recipe":
            if value.lower() not in recipe_names():
                raise _bad_value(flag, value)
            recipe = value.lower()
        else:
            overrides.update(_parse_value(flag, value))
    return ParsedCaption(" ".join(prompt_words), preset, overrides, loop="loop" in switches,
                         smooth="smooth" in switches, fast="fast" in switches, extend=extend,
                         model=model, focus="focus" in switches, recipe=recipe)


def _parse_value(flag: str, value: str) -> dict[str, Any]:
    try:
        if flag in INT_FLAGS:
            return {INT_FLAGS[flag]: int(value)}
        if flag == "--guidance":
            return {"guidance": float(value)}
        if flag == "--eta":
            return {"eta": float(value)}
        if flag == "--res":
            res = value.lower() if value.lower().endswith("p") else f"{value}p"
            # Any model's: the model chosen (perhaps later in the caption) checks its own.
            if res not in all_resolutions():
                raise ValueError
            return {"resolution": res}
        if flag == "--size":
            w, h = value.lower().replace("×", "x").split("x")
            return {"width": int(w), "height": int(h)}
    except ValueError:
        pass
    raise _bad_value(flag, value)


def _bad_value(flag: str, value: str) -> UserError:
    return UserError("bad_flag_value", flag=flag, expected=flag_help()[flag],
                     value=f"'{value}'" if value else "nothing")
