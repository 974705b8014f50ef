"""The page's form as the core's JobRequest: the photo checked as in the chats (type, size),
the prompt read with the same caption rules, the preset, the recipe, focus and the
advanced parameters as typed overrides.

The form is read within limits before any of it is believed: multipart/form-data only, a
declared size over the whole form's limit refused before a byte is read, at most
`MAX_PARTS` parts each read to its own limit (a part of an unknown name too, and dropped),
and an upload that sends nothing for the body timeout stopped.

An advanced field equal to the chosen preset's value (or the recipe's, when one is chosen)
is not an override, so a flag typed into the prompt (`--frames 8`) still counts; a field the
person changed wins over it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web
from aiohttp.hdrs import CONTENT_TYPE

from adapters.web.refusals import Refused
from bot.errors import UserError
from bot.models import ChatRef, JobRequest, Person
from bot.photos import check_upload
from bot.views import mib
from engine.spec.cards import ModelCard, Preset, Recipe, card
from engine.spec.params import SEED

UPLOAD_LIMIT = 20 * 2**20  # bytes of one photo, as Telegram's bots get
FIELD_LIMIT = 16 * 1024  # bytes of one text field: a long caption fits several times
CHUNK = 64 * 1024
MAX_PARTS = 24  # the page sends 11
FORM_LIMIT = UPLOAD_LIMIT + MAX_PARTS * FIELD_LIMIT  # the whole body, part headers aside
T = TypeVar("T")
TEXT_FIELDS = ("prompt", "negative", "preset", "resolution", "frames", "fps", "steps",
               "guidance", "seed", "model", "recipe", "focus", "eta")
NUMBERS: dict[str, type] = {"frames": int, "fps": int, "steps": int, "guidance": float}


async def read_job_request(request: web.Request, person: Person, chat: ChatRef,
                           default_preset: str, models: Sequence[str] = ("i2vgen-xl",),
                           body_timeout: float = 30.0) -> JobRequest:
    """The form as a job of the model it names, one of the offered `models` (the first
    when it names none)."""
    if request.content_type != "multipart/form-data":
        raise Refused(415, "web_not_a_form")
    declared = request.content_length
    if declared is not None and declared > FORM_LIMIT:
        raise Refused(413, "web_form_too_large", limit_mib=mib(FORM_LIMIT),
                      photo_mib=mib(UPLOAD_LIMIT))
    fields: dict[str, str] = {}
    image: bytes | None = None
    try:
        reader = await request.multipart()
        for _ in range(MAX_PARTS):
            part = await within(reader.next(), body_timeout)
            if part is None:
                break
            if not isinstance(part, BodyPartReader):  # a form inside the form
                raise Refused(400, "web_form_unreadable")
            if part.name == "photo" and part.filename:  # an empty file input sends no name
                check_upload(part.filename, part.headers.get(CONTENT_TYPE), None, UPLOAD_LIMIT)
                image = await _read(part, UPLOAD_LIMIT, declared, body_timeout)
            else:  # an unknown part is read within the same limit, and dropped
                raw = await _read(part, FIELD_LIMIT, None, body_timeout)
                if part.name in TEXT_FIELDS:
                    fields[part.name] = raw.decode("utf-8", errors="replace").strip()
        else:
            if await within(reader.next(), body_timeout) is not None:
                raise Refused(400, "web_too_many_fields", limit=MAX_PARTS)
    except ValueError as exc:  # not multipart after all: no boundary, a broken part
        raise Refused(400, "web_form_unreadable") from exc
    if image is None:
        raise UserError("web_need_photo")
    prompt = fields.get("prompt", "")
    if not prompt and not fields.get("recipe"):  # a recipe brings its own tested prompt
        raise UserError("web_need_prompt")
    model_name = fields.get("model") or models[0]
    if model_name not in models:
        raise UserError("model_not_enabled", model=model_name, choices=", ".join(models))
    model = card(model_name)
    name = (fields.get("preset") or default_preset).lower()
    preset = model.presets.get(name)
    if preset is None:
        raise UserError("bad_preset", name=name, choices=", ".join(model.presets))
    return JobRequest(person=person, chat=chat, image=image, caption=prompt,
                      preset=preset.name, seed=_seed(fields.get("seed", "")),
                      overrides=overrides(fields, preset, model))


def overrides(fields: Mapping[str, str], preset: Preset, model: ModelCard) -> dict[str, Any]:
    """The advanced fields that differ from the preset (or the recipe), typed."""
    changed: dict[str, Any] = {}
    if fields.get("model"):  # the page's choice wins over a --model in the prompt
        changed["model"] = model.name
    if fields.get("negative"):
        changed["negative_prompt"] = fields["negative"]
    baseline: Preset | Recipe = preset
    if fields.get("recipe"):
        baseline = _recipe(fields["recipe"], model)
        changed["recipe"] = baseline.name
    if fields.get("focus"):
        changed["focus"] = True  # as strong as the operator set it
    resolution = fields.get("resolution", "")
    if resolution and resolution != preset.resolution:
        if resolution not in model.resolutions:
            raise UserError("bad_resolution", choices=", ".join(model.resolutions))
        changed["resolution"] = resolution
    for name, kind in NUMBERS.items():
        lo, hi = getattr(model, name)
        raw = fields.get(name, "")
        if not raw:
            continue
        value = _number(name, raw, kind, f"{lo:g}-{hi:g}")
        if value != getattr(baseline, name):
            changed[name] = value
    if fields.get("eta"):
        lo, hi = model.eta or (0.0, 1.0)
        changed["eta"] = _number("eta", fields["eta"], float, f"{lo:g}-{hi:g}")
    return changed


def _recipe(name: str, model: ModelCard) -> Recipe:
    found = model.recipes.get(name)
    if found is None:
        if not model.recipes:
            raise UserError("no_recipes", model=model.title)
        raise UserError("bad_recipe", name=name, choices=", ".join(model.recipes))
    return found


def _number(name: str, raw: str, kind: type, expected: str) -> Any:
    try:
        return kind(raw)
    except ValueError:
        raise UserError("bad_flag_value", flag=name, expected=expected, value=raw) from None


def _seed(raw: str) -> int | None:
    if not raw:
        return None  # a new random seed
    try:
        return int(raw)
    except ValueError:
        raise UserError("bad_flag_value", flag="seed", expected=f"{SEED[0]}-{SEED[1]}",
                        value=raw) from None


async def within(step: Awaitable[T], seconds: float) -> T:
    """One read of the body, stopped when the client sends nothing for `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await step
    except TimeoutError:
        raise Refused(408, "web_upload_stalled", seconds=round(seconds)) from None


async def _read(part: BodyPartReader, limit: int, declared: int | None,
                timeout: float) -> bytes:
    data = bytearray()
    while chunk := await within(part.read_chunk(CHUNK), timeout):
        data += chunk
        if len(data) > limit:
            if part.name != "photo":
                raise Refused(413, "web_field_too_long", name=part.name or "?", limit=limit)
            if declared:  # the size the browser said, which is the photo's and a bit more
                raise UserError("photo_too_big", size_mib=mib(declared), limit_mib=mib(limit))
            raise UserError("photo_over_limit", limit_mib=mib(limit))  # sent in chunks
    return bytes(data)
