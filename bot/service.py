"""The core's front door: what every adapter (Telegram, Discord, the web page, the CLI) asks.

`submit` is the one path from a photo and a caption to a queued job: parse, resolve the
preset, check the photo's header, check bans, allow-list and a moderation pause, have the
classifier check the photo (bot/moderation.py, off the event loop), check limits and
credits, reserve the cost and store the job atomically, then tell the person their place in
line. A refused photo costs nothing and never reaches a GPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.captions import ParsedCaption, parse_caption
from bot.errors import UserError
from bot.jobs.lifecycle import Lifecycle
from bot.models import ChatRef, Job, JobEvent, JobRequest, JobStatus, Person, Role, User
from bot.moderation import Moderation
from bot.outputs import Outputs
from bot.payments import Charge, Pack, Payments, Purchase
from bot.quotas import Balance, Quotas, job_cost
from bot.rates import RateLimit
from bot.store import Store, new_job_id
from engine.spec.cards import card, preset_names
from engine.spec.errors import Rejected
from engine.spec.params import SEED, GenParams, smooth_fps
from engine.spec.photos import check_photo
from engine.spec.work import Video

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """The limits and lists from the settings that decide who may do what."""

    admins: frozenset[str] = frozenset()  # "telegram:123" keys
    default_preset: str = "standard"
    models: tuple[str, ...] = ("i2vgen-xl",)  # offered; the first is the default
    max_jobs_per_user: int = 3
    max_queue: int = 50
    allowlist_mode: bool = False
    blocked_words: tuple[str, ...] = ()
    forced_negative: str = ""  # added to every job's negative prompt
    loop_mode: str = "pingpong"
    max_extensions: int = 4
    focus_blur: float = 1.5  # what --focus blurs: radius in % of the photo's short side
    submits_per_minute: int = 10  # per person (admins: no limit); 0: no limit
    stored_photo_bytes: int = 200 * 2**20  # a person's kept photos beyond their live jobs'


@dataclass(frozen=True)
class QueueView:
    length: int  # waiting and running
    paused: bool
    mine: list[tuple[Job, int]]  # the person's jobs with their place in line (0 = running)


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """The engine's refusals (a bad photo, a value out of range) as the person's errors."""
    try:
        yield
    except Rejected as exc:
        raise UserError.from_rejection(exc) from exc


class Core:
    def __init__(self, store: Store, lifecycle: Lifecycle, quotas: Quotas, outputs: Outputs,
                 policy: Policy, payments: Payments, moderation: Moderation) -> None:
        self.store = store
        self.lifecycle = lifecycle
        self.quotas = quotas
        self.outputs = outputs
        self.policy = policy
        self.payments = payments
        self.moderation = moderation
        self._submits = RateLimit(policy.submits_per_minute or 1, 60, "submits")
        self._accepting = True

    @property
    def models(self) -> tuple[str, ...]:
        return self.policy.models

    @property
    def default_preset(self) -> str:
        return self.policy.default_preset

    # Starting: `serve` takes no job before its model (or its workers) can serve it

    def hold_jobs(self) -> None:
        """Refuse new jobs, saying the bot is starting, until `accept_jobs`."""
        self._accepting = False

    def accept_jobs(self) -> None:
        self._accepting = True

    @property
    def starting(self) -> bool:
        return not self._accepting

    # People

    async def user(self, person: Person) -> User:
        """The stored user for a person, created on first contact. Admins are exactly the
        people in the settings: one removed from I2V_ADMINS loses the role at once."""
        is_admin = person.key in self.policy.admins
        user = await self.store.upsert_user(person, Role.ADMIN if is_admin else None)
        if user.role is Role.ADMIN and not is_admin:
            log.warning("user %s: no longer in I2V_ADMINS, now a plain user", user.key)
            user = await self.set_role(user, Role.USER)
        self.lifecycle.set_privileged(user.id, user.role.privileged)
        return user

    async def set_role(self, user: User, role: Role) -> User:
        user = await self.store.update_user(user.id, role=role)
        self.lifecycle.set_privileged(user.id, role.privileged)
        return user

    async def check_access(self, user: User, chat_id: str | None = None) -> None:
        if user.banned:
            raise UserError("banned")
        if (self.policy.allowlist_mode and user.role is not Role.ADMIN
                and not await self.store.is_allowed(user.platform, user.platform_id, chat_id)):
            raise UserError("not_allowed")

    # Jobs

    def check_caption(self, caption: str | None, *, preset: str | None = None,
                      overrides: Mapping[str, Any] | None = None) -> None:
        """Refuse a caption, its flags and an adapter's typed options before anything is
        downloaded (`submit` checks again, with the person's own default preset)."""
        parsed = parse_caption(caption)
        if parsed.extend:  # an extension is checked against the video it continues
            return
        with refusals():
            self._params(parsed, preset, dict(overrides or {}), None, None)

    async def submit(self, request: JobRequest) -> Job:
        if self.starting:
            raise UserError("starting")
        parsed = parse_caption(request.caption)
        if parsed.extend and request.extends is None:  # "--extend JOB": no photo needed
            return await self.extend(request.person, parsed.extend, request.caption,
                                     request.chat)
        user = await self.user(request.person)
        await self.check_access(user, request.chat.chat_id)
        self._check_rate(user)
        await self.moderation.check_paused(user)
        extension = 0
        if request.extends is not None:
            previous = await self.store.get_job(request.extends)
            extension = previous.extension + 1 if previous else 1
        with refusals():
            params = self._params(parsed, request.preset, dict(request.overrides),
                                  request.seed, user)
            # The nominal pixel budget sets the cost, not the photo's shape.
            cost = job_cost(params)
            if request.image is not None:
                size = await asyncio.to_thread(check_photo, request.image)
                params = params.sized_for(*size)
                # Before anything is reserved: a refused photo costs no credits. The limits
                # first (checked again below): no classifier time for a photo that cannot queue.
                self._check_limits(user)
                await self.moderation.check_photo(user, request.image)
            elif params.width is None:  # an extension has the size of what it continues
                raise UserError("input_missing")
        queued = await self._store_and_enqueue(request, user, params, cost, extension)
        job = queued.job
        log.info("job %s user %s: queued %dx%d %d frames %d steps seed %d cost %d", job.id,
                 user.key, params.width, params.height, params.frames, params.steps,
                 params.seed, cost)
        self.lifecycle.publish(queued)
        if request.image is not None:
            await self._keep_photos_within_budget(user)
        return job

    def _check_rate(self, user: User) -> None:
        if user.role is Role.ADMIN or not self.policy.submits_per_minute:
            return
        wait = self._submits.hit(user.key)
        if wait is not None:
            log.info("user %s: too many submissions, %d a minute at most", user.key,
                     self.policy.submits_per_minute)
            raise UserError("too_many_submits", limit=self.policy.submits_per_minute,
                            seconds=math.ceil(wait))

    async def _keep_photos_within_budget(self, user: User) -> None:
        """The photos a person keeps for re-rolls are bounded: past the budget the oldest
        finished jobs' photos go (a re-roll of those asks for the photo again). The photos
        of waiting and running jobs always stay."""
        jobs = await self.store.user_jobs(user.id, 500)  # the newest first
        removed = await asyncio.to_thread(self.outputs.trim_inputs,
                                          [(job.input_path, job.status.active) for job in jobs],
                                          self.policy.stored_photo_bytes)
        if removed:
            log.info("user %s: %d old photos removed to stay within %d MiB", user.key,
                     removed, self.policy.stored_photo_bytes // 2**20)

    async def _store_and_enqueue(self, request: JobRequest, user: User, params: GenParams,
                                 cost: int, extension: int) -> JobEvent:
        """The job, its reservation and its photo, in one transaction; the job joins the
        line last, inside it, so that the limits of the next submission count it."""
        chat = replace(request.chat, language=request.chat.language or request.person.language)
        queued: JobEvent | None = None
        job_id: str | None = None
        try:
            async with self.store.transaction():
                self._check_limits(user)
                job_id = new_job_id()
                while await self.store.job_id_taken(job_id):
                    job_id = new_job_id()
                job = Job(id=job_id, user_id=user.id, platform=request.person.platform,
                          chat=chat, status=JobStatus.QUEUED, caption=request.caption,
                          params=params, cost=cost, input_path=self.outputs.input_path(job_id),
                          attempts=0, created_at=time.time(), extends=request.extends,
                          extension=extension)
                await self.store.insert_job(job)
                await self.quotas.reserve(user, job.id, cost)
                if request.image is not None:  # an extension's photo is made by its worker
                    self.outputs.save_input(job.id, request.image)
                queued = self.lifecycle.enqueue(job, user.role.privileged, user.last_served_at)
        except BaseException:
            if queued is not None:  # the commit failed: the line must not keep the job
                self.lifecycle.withdraw(queued.job.id)
            if job_id is not None:  # nor the disk its photo
                self.outputs.discard_input(job_id)
            raise
        assert queued is not None
        return queued

    def _params(self, parsed: ParsedCaption, preset: str | None, typed: dict[str, Any],
                seed: int | None, user: User | None) -> GenParams:
        """The job's parameters from its caption and the adapter's typed options; `user`
        None: checked ahead of the download, with the bot's default preset."""
        preset = (preset or parsed.preset or (user.default_preset if user else None)
                  or self.policy.default_preset)
        overrides = {**parsed.overrides, **typed}
        # A model from the platform (the Discord option, an extension's) wins over the caption.
        model = overrides.pop("model", None) or parsed.model or self.policy.models[0]
        if model not in self.policy.models:
            raise UserError("model_not_enabled", model=model,
                            choices=", ".join(self.policy.models))
        recipe = overrides.get("recipe") or parsed.recipe
        prompt = parsed.prompt.strip()
        if recipe is not None:
            overrides["recipe"] = recipe
            tested = card(model).recipes.get(recipe)
            prompt = prompt or (tested.prompt if tested else "")  # else the model refuses
        if not prompt and recipe is None:
            raise UserError("need_caption")
        if blocked(prompt, self.policy.blocked_words):
            log.info("user %s: prompt refused by the block-list", user.key if user else "?")
            raise UserError("blocked_prompt")
        if seed is not None:
            overrides["seed"] = seed
        if parsed.loop:
            overrides["loop"] = self.policy.loop_mode
        if parsed.fast:
            overrides["fast"] = True
        # --focus (or the platform's switch) blurs as strongly as the operator set; a job made
        # again keeps the strength it had.
        focus = overrides.pop("focus", None)
        if parsed.focus or focus is True:
            overrides["focus"] = self.policy.focus_blur
        elif isinstance(focus, float | int) and not isinstance(focus, bool):
            overrides["focus"] = float(focus)
        if self.policy.forced_negative:
            overrides["negative_prompt"] = with_forced(
                str(overrides.get("negative_prompt") or ""), self.policy.forced_negative)
        params = GenParams.from_preset(preset, prompt, model=model, **overrides)
        if parsed.smooth and params.smooth_fps is None:
            params = replace(params, smooth_fps=smooth_fps(params.fps)).validated()
        if params.seed is None:
            params = replace(params, seed=random.randint(*SEED))
        return params

    def _check_limits(self, user: User) -> None:
        if user.role is not Role.ADMIN:
            mine = self.lifecycle.active(user.id)
            if mine >= self.policy.max_jobs_per_user:
                raise UserError("too_many_jobs", count=mine,
                                limit=self.policy.max_jobs_per_user)
        total = self.lifecycle.active()
        if total >= self.policy.max_queue:
            raise UserError("queue_full", count=total)

    async def own_job(self, person: Person, job_id: str) -> Job:
        user = await self.user(person)
        job = await self.store.get_job(job_id.strip().lstrip("#"))
        if job is None or job.user_id != user.id:
            raise UserError("no_such_job", job=job_id)
        return job

    async def cancel(self, person: Person, job_id: str | None = None) -> Job:
        """Cancel the named job, or the person's most recent active one."""
        if job_id:
            job = await self.own_job(person, job_id)
        else:
            user = await self.user(person)
            active = [j for j in await self.store.user_jobs(user.id, 50) if j.status.active]
            if not active:
                raise UserError("nothing_to_cancel")
            job = active[0]
        return await self.cancel_job(job, person.key)

    async def cancel_job(self, job: Job, actor: str) -> Job:
        log.info("job %s user %s: cancel asked by %s", job.id, job.user_id, actor)
        return await self.lifecycle.cancel(job)

    async def again(self, person: Person, job_id: str, *, better: bool,
                    chat: ChatRef | None = None) -> Job:
        """Re-roll (same settings, new seed) or better quality (same seed, next preset). An
        extension is re-rolled as an extension of the same video."""
        job = await self.own_job(person, job_id)
        if job.extends is not None:
            if better:  # its size and length are those of the video it continues
                raise UserError("top_preset")
            return await self.extend(person, job.extends, job.caption, chat or job.chat,
                                     seed=random.randint(*SEED))
        # The caption keeps the person's own flags; preset and seed given here win over it,
        # and so do the settings a platform gave beside the caption (a Discord option, the
        # web form's recipe, focus, eta and negative prompt).
        p = job.params
        preset: str | None = p.preset
        seed = random.randint(*SEED)
        kept = {"model": p.model, "negative_prompt": p.negative_prompt, "focus": p.focus,
                "eta": p.eta, "recipe": p.recipe}
        if better:
            preset = card(p.model).next_preset(p.preset)
            if preset is None or p.recipe is not None:  # a recipe is no preset to improve
                raise UserError("top_preset")
            seed = job.seed
        try:
            image = await asyncio.to_thread(job.input_path.read_bytes)
        except FileNotFoundError:
            raise UserError("input_missing") from None
        return await self.submit(JobRequest(
            person=person, chat=chat or job.chat, image=image, caption=job.caption,
            preset=preset, seed=seed,
            overrides={k: v for k, v in kept.items() if v is not None and v != ""}))

    async def extend(self, person: Person, job_id: str, caption: str | None = None,
                     chat: ChatRef | None = None, *, seed: int | None = None) -> Job:
        """Continue a finished video: its last frame (taken by the worker) becomes the next
        photo, with the same settings and the same prompt (or a new one in `caption`); the
        result is the joined video. Costs like a new video and waits its turn like one."""
        job = await self.own_job(person, job_id)
        if job.status not in (JobStatus.DONE, JobStatus.DELIVERED) or job.output_path is None \
                or not job.output_path.exists():
            raise UserError("not_extendable", job=job.id)
        if job.extension >= self.policy.max_extensions:
            raise UserError("extend_limit", limit=self.policy.max_extensions)
        parsed = parse_caption(caption)
        if parsed.smooth and not job.params.smooth_fps:  # clips at two frame rates cannot join
            raise UserError("extend_smooth")
        if not parsed.prompt.strip():  # only flags, or nothing: the same prompt
            caption = f"{job.params.prompt} {caption or ''}".strip()
        p = job.params
        same = {"width": p.width, "height": p.height, "frames": p.frames, "fps": p.fps,
                "steps": p.steps, "guidance": p.guidance, "smooth_fps": p.smooth_fps,
                "negative_prompt": p.negative_prompt, "model": p.model, "eta": p.eta}
        return await self.submit(JobRequest(person=person, chat=chat or job.chat, image=None,
                                            caption=caption or "", preset=p.preset, seed=seed,
                                            overrides=same, extends=job.id))

    async def result_of(self, job: Job) -> Video | None:
        return await asyncio.to_thread(self.outputs.result_of, job)

    async def delivered(self, job_id: str) -> None:
        await self.lifecycle.delivered(job_id)

    async def undeliverable(self, job_id: str, reason: str) -> None:
        await self.lifecycle.undeliverable(job_id, reason)

    # What a person can look up

    async def balance(self, person: Person) -> Balance:
        return await self.quotas.balance(await self.user(person))

    async def history(self, person: Person, limit: int = 10) -> list[Job]:
        return await self.store.user_jobs((await self.user(person)).id, limit)

    async def queue_view(self, person: Person) -> QueueView:
        user = await self.user(person)
        mine = [(job, 0) for job in self.lifecycle.running_jobs() if job.user_id == user.id]
        for job_id, position in self.lifecycle.places(user.id):
            job = await self.store.get_job(job_id)
            if job is not None:
                mine.append((job, position))
        return QueueView(self.lifecycle.active(), self.lifecycle.paused, mine)

    # Buying credits

    @property
    def packs(self) -> tuple[Pack, ...]:
        return self.payments.packs

    async def check_checkout(self, person: Person, payload: str, currency: str,
                             amount: int) -> Pack:
        """Refuse a checkout by someone who may not use the bot, or for a pack no longer
        offered at that price."""
        user = await self.user(person)
        await self.check_access(user)
        return self.payments.check(payload, currency, amount)

    async def purchase(self, person: Person, charge: Charge) -> Purchase:
        """Credit a payment (once, however often it is reported), whoever the buyer is now:
        they paid. The purchase says what it added and the balance after it."""
        return await self.payments.credit(await self.user(person), charge)

    async def set_default_preset(self, person: Person, name: str) -> User:
        name = name.strip().lower()
        if name not in preset_names():
            raise UserError("bad_preset", name=name, choices=", ".join(preset_names()))
        return await self.store.update_user((await self.user(person)).id, default_preset=name)


def with_forced(negative: str, forced: str) -> str:
    """The operator's negative prompt added once to the person's (an extension carries it
    already). First, so that a long negative prompt cannot push it past the text encoder's
    77 tokens, which cut off what follows."""
    negative = negative.strip()
    if forced.lower() in negative.lower():
        return negative
    return f"{forced}, {negative}" if negative else forced


def blocked(prompt: str, words: tuple[str, ...]) -> bool:
    """Whole words for scripts with spaces ("ass" does not block "grass"); a plain substring
    for words in scripts without them, such as Chinese."""
    for word in words:
        pattern = rf"\b{re.escape(word)}\b" if word.isascii() else re.escape(word)
        if re.search(pattern, prompt, re.IGNORECASE):
            return True
    return False
