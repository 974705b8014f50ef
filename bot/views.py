"""Replies built once from plain data, per language; Telegram, Discord, the web page and the
CLI only format and send them. Units are the same everywhere: sizes in MiB, hours rounded
up, durations in s or min."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from bot.coach import suggestions
from bot.models import EventKind, Job, JobEvent, JobStatus, Note
from bot.quotas import Balance, credits, hours_until, preset_costs, recipe_costs
from bot.service import QueueView
from bot.texts import CATALOGUE, text
from engine.spec.cards import DEFAULT_MODEL, ModelCard, card, cards, recipe_names
from engine.spec.params import GenParams
from engine.spec.units import mib
from engine.spec.work import Video

__all__ = ["mib"]  # the one way sizes are shown, shared with the engine's messages


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{math.ceil(seconds / 60)} min"


def cost(amount: int, lang: str) -> str:
    """'1 credit', '0.3 credits': what a job costs, in words."""
    return text("credit_one", lang) if amount == 100 else \
        text("credit_many", lang, amount=credits(amount))


def progress_bar(step: int, total: int, width: int = 12) -> str:
    filled = round(width * step / total) if total else 0
    return "▰" * filled + "▱" * (width - filled)


def note_text(note: Note | None, lang: str) -> str:
    return text(note.key, lang, **note.params) if note else ""


def status_line(event: JobEvent) -> str:
    """The one status message a chat shows for a job, edited in place as events arrive."""
    lang, job, kind = event.language, event.job, event.kind
    if kind is EventKind.QUEUED:
        key = "queued" if event.eta_seconds is not None else "queued_no_eta"
        line = text(key, lang, position=event.position, eta=duration(event.eta_seconds),
                    job=job.id, cost=cost(job.cost, lang))
        notes = [text(key, lang) for key, shown in (("paused", event.paused),
                                                    ("workers_unreachable", event.unreachable))
                 if shown]
        return "\n".join([line, *notes])
    if kind is EventKind.STARTED:
        return text("started", lang, job=job.id)
    if kind is EventKind.PROGRESS:
        return text("progress", lang, job=job.id, step=event.step, total=event.total_steps,
                    bar=progress_bar(event.step, event.total_steps))
    if kind is EventKind.ENCODING:
        return text("encoding", lang, job=job.id)
    if kind is EventKind.DONE:
        return text("done", lang, job=job.id)
    if kind is EventKind.FAILED:
        return text("failed", lang, job=job.id, reason=note_text(event.reason, lang))
    return text("cancelled", lang, job=job.id)


READ_CHARS = 300  # of a translation shown under a video: the person's prompt comes first


def clip(words: str, limit: int) -> str:
    """`words` cut to `limit` characters, an ellipsis showing where."""
    return words if len(words) <= limit else words[: max(0, limit - 1)] + "…"


def read_lines(params: GenParams, lang: str, limit: int = READ_CHARS) -> list[str]:
    """What the model read, where that is not what the person wrote: the English of a
    translated prompt (and negative prompt), or why a prompt was not translated."""
    model = card(params.model).title
    lines = []
    if params.translated_prompt is not None:
        lines.append(text("result_read", lang, model=model,
                          prompt=clip(params.translated_prompt, limit)))
    elif params.prompt_language not in (None, "en"):
        lines.append(text("result_untranslated", lang, model=model))
    if params.translated_negative is not None:
        lines.append(text("result_read_negative", lang,
                          negative=clip(params.translated_negative, limit)))
    return lines


def result_caption(job: Job, result: Video, lang: str = "en", limit: int = 1024) -> str:
    """The caption under a finished video: the person's prompt, what the model read when it
    was translated, the parameters; the prompt shortened so the whole fits `limit`."""
    p = job.params
    fields = dict(model=card(p.model).title, preset=p.preset, seed=p.seed, width=result.width,
                  height=result.height, frames=result.frames, fps=result.fps, steps=p.steps,
                  guidance=p.guidance,
                  seconds=duration(job.run_seconds), cost=cost(job.cost, lang), job=job.id)
    extras = [text("result_fast", lang, how=text(f"fast_how_{p.model}", lang))] if p.fast \
        else []
    if p.recipe:
        extras.append(text("result_recipe", lang, recipe=p.recipe))
    if p.focus is not None:
        extras.append(text("result_focus", lang))
    if p.eta is not None:
        extras.append(text("result_eta", lang, eta=f"{p.eta:g}"))
    if p.loop:
        extras.append(text("result_loop", lang))
    if p.smooth_fps:
        extras.append(text("result_smooth", lang, fps=p.smooth_fps))
    if job.extension:
        extras.append(text("result_extension", lang, number=job.extension))
    lines = [line for line in (" · ".join(extras), note_text(job.note, lang)) if line]
    reads = read_lines(p, lang, min(READ_CHARS, limit // 4))
    rest = len(text("result", lang, prompt="", **fields)) + sum(
        len(line) + 1 for line in (*reads, *lines))
    caption = text("result", lang, prompt=clip(p.prompt, max(1, limit - rest)), **fields)
    head, _, tail = caption.partition("\n")  # the prompt's line, then the parameters
    caption = "\n".join([head, *reads, tail])
    for line in lines:
        caption = (caption + "\n" + line)[:limit]
    return caption[:limit]


def advice(params: GenParams, lang: str) -> list[str]:
    """What a new job's settings would do better, said once when it is queued (the job
    runs as asked): progressive verbs for a simple present or past, and a guidance above
    the model's stiff point."""
    lines = []
    found = suggestions(params.prompt)
    if found:
        pairs = ", ".join(text("coach_pair", lang, found=s.found, better=s.better)
                          for s in found)
        lines.append(text("coach_hint", lang, pairs=pairs))
    stiff = card(params.model).stiff_guidance
    if stiff is not None and params.guidance > stiff:
        lines.append(text("guidance_stiff", lang, guidance=f"{params.guidance:g}",
                          limit=f"{stiff:g}"))
    return lines


def result_actions(job: Job) -> tuple[str, ...]:
    """What can be done with a finished video: the same buttons on every platform. Re-roll
    it; make it one preset better (not at the top preset, nor for an extension, whose size
    and length are those of the video it continues, nor for a recipe, whose values are a
    tested scene's rather than a preset's); extend it."""
    better = job.extends is None and job.params.recipe is None and \
        card(job.params.model).next_preset(job.params.preset) is not None
    return ("reroll", *(("better",) if better else ()), "extend")


def preset_about(model: str, preset: str, lang: str) -> str:
    """A preset's description from the catalogue; a model without one there has none."""
    key = f"preset_about_{model}_{preset}"
    return text(key, lang) if key in CATALOGUE["en"] else ""


def recipe_about(recipe: str, lang: str) -> str:
    key = f"recipe_about_{recipe}"
    return text(key, lang) if key in CATALOGUE["en"] else ""


def presets_reply(lang: str, models: Sequence[str] = (DEFAULT_MODEL,)) -> str:
    """Each offered model's presets and costs, then its recipes; the first model is the
    default."""
    lines = [text("presets_head", lang)]
    for i, name in enumerate(models):
        model = card(name)
        if len(models) > 1:
            lines.append(text("presets_model_default" if i == 0 else "presets_model", lang,
                              title=model.title, name=model.name))
        costs = preset_costs(name)
        for p in model.presets.values():
            lines.append(text("preset_line", lang, name=p.name, resolution=p.resolution,
                              frames=p.frames, fps=p.fps, steps=p.steps, guidance=p.guidance,
                              cost=cost(costs[p.name], lang),
                              description=preset_about(name, p.name, lang)))
        if model.recipes:
            lines.append(text("recipes_head", lang))
            prices = recipe_costs(name)
            for r in model.recipes.values():
                lines.append(text("recipe_line", lang, name=r.name, width=r.width,
                                  height=r.height, frames=r.frames, fps=r.fps, steps=r.steps,
                                  guidance=r.guidance, cost=cost(prices[r.name], lang),
                                  description=recipe_about(r.name, lang)))
    return "\n".join(lines)


def quota_reply(balance: Balance, lang: str, now: float | None = None) -> str:
    """Today's credits and when they reset; bought ones, which do not, when there are any."""
    if balance.allowance is None:
        reply = text("quota_unlimited", lang)
    else:
        reply = text("quota", lang, left=credits(balance.left),
                     allowance=credits(balance.allowance), spent=credits(balance.spent),
                     granted=credits(balance.granted),
                     hours=hours_until(balance.resets_at, time.time() if now is None else now))
    if balance.bought:
        reply += "\n" + text("quota_bought", lang, bought=credits(balance.bought))
    return reply


def queue_reply(view: QueueView, lang: str) -> str:
    if view.length == 0:
        return text("queue_empty", lang)
    if view.mine:
        jobs = ", ".join(f"{job.id} ({text('queue_running', lang) if place == 0 else f'#{place}'})"
                         for job, place in view.mine)
        mine = text("queue_mine", lang, jobs=jobs)
    else:
        mine = text("queue_none_mine", lang)
    return text("queue_line", lang, count=view.length, mine=mine,
                paused=text("queue_paused", lang) if view.paused else "")


def status_name(status: JobStatus, lang: str) -> str:
    return text(f"status_{status.value}", lang)


def history_reply(jobs: list[Job], lang: str) -> str:
    if not jobs:
        return text("history_empty", lang)
    return "\n".join([text("history_head", lang)] + [
        text("history_line", lang, job=j.id, status=status_name(j.status, lang),
             preset=j.params.preset, seed=j.seed, prompt=j.params.prompt[:60]) for j in jobs])


def help_reply(lang: str, models: Sequence[str] | None = None) -> str:
    """How to write a caption, with the ranges of the offered models (the first is the
    default; another's that differ are named after it)."""
    offered = [card(name) for name in models] if models else list(cards().values())
    first = offered[0]

    def span(model: ModelCard, field: str) -> str:
        lo, hi = getattr(model, field)
        return f"{lo}-{hi}"

    def frames(model: ModelCard) -> str:
        step = f", {model.frame_step}k+1" if model.frame_step > 1 else ""
        return span(model, "frames") + step

    others = "".join(text("help_model", lang, name=m.name, resolutions="|".join(m.resolutions),
                          frames=frames(m)) for m in offered[1:])
    recipes = [r for r in recipe_names() if any(r in m.recipes for m in offered)]
    return text("help", lang, presets=", ".join(first.presets), frames=frames(first),
                recipes=", ".join(recipes) or "-",
                fps=span(first, "fps"), steps=span(first, "steps"),
                guidance=span(first, "guidance"), resolutions="|".join(first.resolutions),
                others=others)
