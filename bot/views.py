"""Replies built once from plain data, per language; Telegram, Discord, the web page and the
CLI only format and send them. Units are the same everywhere: sizes in MiB, hours rounded
up, durations in s or min."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from bot.models import EventKind, Job, JobEvent, JobStatus, Note
from bot.quotas import Balance, credits, hours_until, preset_costs
from bot.service import QueueView
from bot.texts import CATALOGUE, text
from engine.spec.cards import DEFAULT_MODEL, ModelCard, card, cards
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


def result_caption(job: Job, result: Video, lang: str = "en", limit: int = 1024) -> str:
    """The caption under a finished video, the prompt shortened so the whole fits `limit`."""
    p = job.params
    fields = dict(model=card(p.model).title, preset=p.preset, seed=p.seed, width=result.width,
                  height=result.height, frames=result.frames, fps=result.fps, steps=p.steps,
                  guidance=p.guidance,
                  seconds=duration(job.run_seconds), cost=cost(job.cost, lang), job=job.id)
    rest = len(text("result", lang, prompt="", **fields))
    prompt = p.prompt
    if rest + len(prompt) > limit:
        prompt = prompt[: max(0, limit - rest - 1)] + "…"
    caption = text("result", lang, prompt=prompt, **fields)
    extras = [text("result_fast", lang)] if p.fast else []
    if p.loop:
        extras.append(text("result_loop", lang))
    if p.smooth_fps:
        extras.append(text("result_smooth", lang, fps=p.smooth_fps))
    if job.extension:
        extras.append(text("result_extension", lang, number=job.extension))
    for line in (" · ".join(extras), note_text(job.note, lang)):
        if line:
            caption = (caption + "\n" + line)[:limit]
    return caption


def result_actions(job: Job) -> tuple[str, ...]:
    """What can be done with a finished video: the same buttons on every platform. Re-roll
    it; make it one preset better (not at the top preset, nor for an extension, whose size
    and length are those of the video it continues); extend it."""
    better = job.extends is None and \
        card(job.params.model).next_preset(job.params.preset) is not None
    return ("reroll", *(("better",) if better else ()), "extend")


def preset_about(model: str, preset: str, lang: str) -> str:
    """A preset's description from the catalogue; a model without one there has none."""
    key = f"preset_about_{model}_{preset}"
    return text(key, lang) if key in CATALOGUE["en"] else ""


def presets_reply(lang: str, models: Sequence[str] = (DEFAULT_MODEL,)) -> str:
    """Each offered model's presets and costs; the first model is the default."""
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
    return "\n".join(lines)


def quota_reply(balance: Balance, lang: str, now: float | None = None) -> str:
    if balance.allowance is None:
        return text("quota_unlimited", lang)
    return text("quota", lang, left=credits(balance.left), allowance=credits(balance.allowance),
                spent=credits(balance.spent), granted=credits(balance.granted),
                hours=hours_until(balance.resets_at, time.time() if now is None else now))


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
    return text("help", lang, presets=", ".join(first.presets), frames=frames(first),
                fps=span(first, "fps"), steps=span(first, "steps"),
                guidance=span(first, "guidance"), resolutions="|".join(first.resolutions),
                others=others)
