"""The web page's HTML and its live events as JSON, in the catalogue's words.

Everything shown is built here, on the server, from the same views the chats use (status
line, result caption, quota, history); the page's script only puts text into place. Every
value goes through `html.escape` (or JSON for the script), so a prompt can never become
markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from bot.captions import MAX_CAPTION_CHARS
from bot.coach import words_data
from bot.models import EventKind, Job, JobEvent
from bot.quotas import preset_costs, recipe_costs
from bot.texts import CATALOGUE, LANGUAGES, text
from bot.views import (
    cost,
    history_reply,
    preset_about,
    recipe_about,
    result_actions,
    result_caption,
    status_line,
    status_name,
)
from engine.spec.cards import ModelCard, card
from engine.spec.params import SEED
from engine.spec.work import Video

TEMPLATES = Path(__file__).parent / "templates"
# The catalogue's texts the templates show as they are.
PAGE_TEXTS = ("web_title", "web_intro", "web_switch_language", "web_prompt",
              "web_prompt_placeholder", "web_negative", "web_negative_placeholder",
              "web_preset", "web_advanced", "web_resolution", "web_seed", "web_seed_random",
              "web_generate", "web_tips_title", "web_output", "web_output_empty",
              "web_history")
LOGIN_TEXTS = ("web_title", "web_login_title", "web_password", "web_login")
# The texts the page's script needs, by the names it uses.
SCRIPT_TEXTS = {"download": "web_download", "cancel": "button_cancel",
                "reroll": "button_reroll", "better": "button_better",
                "uploading": "web_uploading", "generate": "web_generate",
                "network": "web_network_error", "reconnecting": "web_reconnecting"}
# Templates the script fills in itself, as one types: the prompt coach and the guidance
# warning (their {placeholders} as in the chats' replies).
SCRIPT_TEMPLATES = {"coach": "coach_hint", "coach_pair": "coach_pair",
                    "stiff": "guidance_stiff"}


def ranges(model: ModelCard) -> dict[str, tuple[str, tuple[float, float]]]:
    """The advanced fields' labels and the model's ranges (the seed's label has none)."""
    return {"web_frames": ("frames", model.frames), "web_fps": ("fps", model.fps),
            "web_steps": ("steps", model.steps), "web_guidance": ("guidance", model.guidance),
            "": ("seed", SEED)}



@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def _texts(keys: tuple[str, ...], lang: str) -> dict[str, str]:
    return {key: html.escape(text(key, lang)) for key in keys}


def _json(value: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def page(lang: str, session: str, admin: bool, default_preset: str, history_html: str,
         upload_limit_mib: str, model_name: str = "i2vgen-xl",
         models: Sequence[str] = ("i2vgen-xl",), *, starting: bool = False,
         sign_out: bool = False) -> str:
    """The page for `model_name`, one of the offered `models` (a choice when there are
    several: choosing another reloads the page with its presets and ranges). `starting`:
    it says the bot is starting (its script takes that away when it is ready); `sign_out`:
    a button to sign out (where a password let this browser in)."""
    model = card(model_name)
    values: dict[str, str] = {
        **_texts(PAGE_TEXTS, lang),
        "lang": "zh-CN" if lang == "zh" else "en",
        "other_lang": next(other for other in LANGUAGES if other != lang),
        "web_photo_hint": html.escape(text("web_photo_hint", lang,
                                           limit_mib=upload_limit_mib)),
        "caption_limit": str(MAX_CAPTION_CHARS),
        "model_field": model_field(lang, model.name, models),
        "preset_options": preset_options(lang, default_preset, model),
        "resolution_options": "".join(f'<option value="{r}">{r}</option>'
                                      for r in model.resolutions),
        "tips": "".join(f"<li>{html.escape(line)}</li>"
                        for line in text("web_tips", lang).splitlines()),
        "history": history_html,
        "starting": f'<p id="starting" class="warning">{html.escape(text("starting", lang))}'
                    "</p>" if starting else "",
        "sign_out": '<form method="post" action="/logout" class="sign-out"><button '
                    f'type="submit">{html.escape(text("web_sign_out", lang))}</button></form>'
                    if sign_out else "",
        "you_are": html.escape(text("web_you_are", lang, user=f"web:{session}",
                                    admin=text("web_admin_mark", lang) if admin else "")),
        "labels": _json({**{name: text(key, lang) for name, key in SCRIPT_TEXTS.items()},
                         **{name: template(key, lang)
                            for name, key in SCRIPT_TEMPLATES.items()}}),
        "presets": _json({p.name: {"resolution": p.resolution, "frames": p.frames,
                                   "fps": p.fps, "steps": p.steps, "guidance": p.guidance}
                          for p in model.presets.values()}),
        "recipes": _json({r.name: {"frames": r.frames, "fps": r.fps, "steps": r.steps,
                                   "guidance": r.guidance, "prompt": r.prompt}
                          for r in model.recipes.values()}),
        "coach_words": _json(words_data()),
        "stiff_guidance": _json(model.stiff_guidance),
        "recipe_field": recipe_field(lang, model),
        "eta_field": eta_field(lang, model),
        "web_focus": html.escape(text("web_focus", lang)),
    }
    for key, (name, (lo, hi)) in ranges(model).items():
        values[f"{name}_lo"], values[f"{name}_hi"] = f"{lo:g}", f"{hi:g}"
        if key:
            values[key] = html.escape(text(key, lang, lo=f"{lo:g}", hi=f"{hi:g}"))
    return _template("page.html").substitute(values)


def template(key: str, lang: str) -> str:
    """A catalogue sentence with its {placeholders} left in, for the script to fill."""
    return CATALOGUE[lang][key]


def recipe_field(lang: str, model: ModelCard) -> str:
    """The recipe choice (its values fill the advanced fields); none for a model without
    recipes."""
    if not model.recipes:
        return ""
    costs = recipe_costs(model.name)
    options = [f'<option value="">{html.escape(text("web_recipe_none", lang))}</option>']
    for r in model.recipes.values():
        label = text("web_recipe_option", lang, name=r.name, width=r.width, height=r.height,
                     cost=cost(costs[r.name], lang), description=recipe_about(r.name, lang))
        options.append(f'<option value="{r.name}">{html.escape(label)}</option>')
    return (f'<label for="recipe">{html.escape(text("web_recipe", lang))}</label>'
            f'<select id="recipe" name="recipe">{"".join(options)}</select>')


def eta_field(lang: str, model: ModelCard) -> str:
    """The eta input, for a model whose sampler has one; empty: the model's default (0)."""
    if model.eta is None:
        return ""
    lo, hi = model.eta
    label = html.escape(text("web_eta", lang, lo=f"{lo:g}", hi=f"{hi:g}"))
    hint = html.escape(text("web_eta_default", lang))
    return (f'<label>{label}<input name="eta" type="number" min="{lo:g}" max="{hi:g}" '
            f'step="0.05" placeholder="{hint}"></label>')


def model_field(lang: str, selected: str, models: Sequence[str]) -> str:
    if len(models) < 2:
        return ""
    options = "".join(
        f'<option value="{name}"{" selected" if name == selected else ""}>'
        f"{html.escape(card(name).title)}</option>" for name in models)
    return (f'<label for="model">{html.escape(text("web_model", lang))}</label>'
            f'<select id="model" name="model">{options}</select>')


def preset_options(lang: str, selected: str, model: ModelCard) -> str:
    options = []
    costs = preset_costs(model.name)
    for p in model.presets.values():
        label = text("web_preset_option", lang, name=p.name, cost=cost(costs[p.name], lang),
                     description=preset_about(model.name, p.name, lang))
        chosen = " selected" if p.name == selected else ""
        options.append(f'<option value="{p.name}"{chosen}>{html.escape(label)}</option>')
    return "".join(options)


def history(entries: list[tuple[Job, Video | None]], quota: str, lang: str) -> str:
    """The person's recent jobs, newest first: finished ones with their player."""
    items = [f'<p id="quota">{html.escape(quota)}</p>']
    if not entries:
        items.append(f'<p class="empty">{html.escape(history_reply([], lang))}</p>')
        return "".join(items)
    items.append('<ol class="history">')
    for job, result in entries:
        attrs = f'data-job="{job.id}" data-status="{job.status.value}"'
        if result is None:
            line = text("history_line", lang, job=job.id, status=status_name(job.status, lang),
                        preset=job.params.preset, seed=job.seed, prompt=job.params.prompt)
            items.append(f'<li {attrs}><p class="params">{html.escape(line)}</p></li>')
            continue
        urls = video_urls(job.id)
        caption = html.escape(result_caption(job, result, lang))
        items.append(
            f'<li {attrs}><video controls preload="none" poster="{urls["poster"]}" '
            f'src="{urls["video"]}" width="{result.width}" height="{result.height}"></video>'
            f'<div><p class="params">{caption}</p><a class="download" download '
            f'href="{urls["download"]}">{html.escape(text("web_download", lang))}</a></div>'
            f'</li>')
    items.append("</ol>")
    return "".join(items)


def login(lang: str, message: str = "") -> str:
    return _template("login.html").substitute(
        **_texts(LOGIN_TEXTS, lang), lang="zh-CN" if lang == "zh" else "en",
        message=html.escape(message))


def video_urls(job_id: str) -> dict[str, str]:
    return {"video": f"/videos/{job_id}.mp4", "download": f"/videos/{job_id}.mp4?download=1",
            "poster": f"/videos/{job_id}.jpg"}


def event_json(event: JobEvent, lang: str) -> dict[str, Any]:
    """One job event as the page shows it, in the page's language."""
    event = replace(event, language=lang)
    payload: dict[str, Any] = {
        "job": event.job.id, "kind": event.kind.value, "text": status_line(event),
        "step": event.step, "total": event.total_steps, "position": event.position,
        "final": event.kind.final, "cancellable": event.kind.live}
    if event.preview is not None:  # the step names this preview: a newer one is a new URL
        payload["preview"] = f"/api/jobs/{event.job.id}/preview.jpg?step={event.step}"
    if event.kind is EventKind.DONE and event.result is not None:
        payload["result"] = {**video_urls(event.job.id),
                             "caption": result_caption(event.job, event.result, lang),
                             "width": event.result.width, "height": event.result.height,
                             "actions": [a for a in result_actions(event.job)
                                         if a in ("reroll", "better")]}
    return payload
