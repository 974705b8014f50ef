"""The core's front door: what every adapter (Telegram, Discord, the CLI) asks of the bot.

`submit` is the one path from a photo and a caption to a queued job: parse, resolve the
preset, validate the photo, check bans, allow-list, limits and credits, reserve the cost and
persist the job atomically, then wake the worker.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from dataclasses import dataclass, replace

from bot.captions import parse_caption
from bot.models import Job, JobRequest, JobStatus, Person, Role, User
from bot.outputs import Outputs
from bot.queue import JobQueue
from bot.quotas import Balance, Quotas, job_cost
from bot.store import Store, new_job_id
from engine.errors import UserError
from engine.images import load_photo
from engine.params import PRESETS, SEED, GenParams, next_preset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """The limits and lists from the settings that decide who may do what."""

    admins: frozenset[str] = frozenset()  # "telegram:123" keys
    default_preset: str = "standard"
    max_jobs_per_user: int = 3
    max_queue: int = 50
    allowlist_mode: bool = False
    blocked_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueView:
    length: int
    paused: bool
    mine: list[tuple[Job, int]]  # the person's jobs with their place in line (0 = running)


class Core:
    def __init__(self, store: Store, queue: JobQueue, quotas: Quotas, outputs: Outputs,
                 policy: Policy) -> None:
        self.store = store
        self.queue = queue
        self.quotas = quotas
        self.outputs = outputs
        self.policy = policy

    # People

    async def user(self, person: Person) -> User:
        """The stored user for a person, created on first contact. Admins are exactly the
        people in the settings: one removed from I2V_ADMINS loses the role at once."""
        is_admin = person.key in self.policy.admins
        user = await self.store.upsert_user(person, Role.ADMIN if is_admin else None)
        if user.role is Role.ADMIN and not is_admin:
            log.warning("user %s: no longer in I2V_ADMINS, now a plain user", user.key)
            user = await self.store.update_user(user.id, role=Role.USER)
        return user

    async def check_access(self, user: User, chat_ident: str | None = None) -> None:
        if user.banned:
            raise UserError("banned", "You cannot use this bot.")
        if (self.policy.allowlist_mode and user.role is not Role.ADMIN
                and not await self.store.is_allowed(user.platform, user.platform_id,
                                                    chat_ident)):
            raise UserError("not_allowed", "This is a private bot; ask an admin to add you.")

    # Jobs

    async def submit(self, request: JobRequest) -> Job:
        user = await self.user(request.person)
        await self.check_access(user, _chat_ident(request.chat))
        params = self._params(request, user)
        image = await asyncio.to_thread(load_photo, request.image)
        cost = job_cost(params)
        params = params.sized_for(*image.size)
        chat = {"lang": request.person.language, **request.chat}
        async with self.store.transaction():
            await self._check_limits(user)
            job_id = new_job_id()
            while await self.store.job_id_taken(job_id):
                job_id = new_job_id()
            job = Job(id=job_id, user_id=user.id, platform=request.person.platform, chat=chat,
                      status=JobStatus.QUEUED, caption=request.caption, params=params,
                      cost=cost, input_path=self.outputs.inputs / f"{job_id}.img",
                      attempts=0, created_at=time.time())
            await self.store.insert_job(job)
            await self.quotas.reserve(user, job.id, cost)
            # Written last, inside the transaction: if it fails nothing was accepted.
            self.outputs.save_input(job.id, request.image)
        log.info("job %s user %s: queued %dx%d %d frames %d steps seed %d cost %d", job.id,
                 user.key, params.width, params.height, params.frames, params.steps,
                 params.seed, cost)
        self.queue.wake()
        await self.queue.announce(job)
        return job

    def _params(self, request: JobRequest, user: User) -> GenParams:
        parsed = parse_caption(request.caption)
        if not parsed.prompt.strip():
            raise UserError("need_caption",
                            "Add a caption describing the motion, e.g. “a woman smiling and "
                            "waving slowly”. See /help for tips.")
        if blocked(parsed.prompt, self.policy.blocked_words):
            log.info("user %s: prompt refused by the block-list", user.key)
            raise UserError("blocked_prompt", "This prompt can't be used. Please try a "
                            "different one.")
        preset = (request.preset or parsed.preset or user.default_preset
                  or self.policy.default_preset)
        overrides = {**parsed.overrides, **request.overrides}
        if request.seed is not None:
            overrides["seed"] = request.seed
        params = GenParams.from_preset(preset, parsed.prompt, **overrides)
        if params.seed is None:
            params = replace(params, seed=random.randint(*SEED))
        return params

    async def _check_limits(self, user: User) -> None:
        if user.role is not Role.ADMIN:
            mine = await self.store.count_active(user.id)
            if mine >= self.policy.max_jobs_per_user:
                raise UserError("too_many_jobs",
                                f"You already have {mine} videos waiting or running (the "
                                f"limit is {self.policy.max_jobs_per_user}). Wait for one to "
                                "finish, or /cancel one.",
                                count=mine, limit=self.policy.max_jobs_per_user)
        total = await self.store.count_active()
        if total >= self.policy.max_queue:
            raise UserError("queue_full", f"The bot is busy ({total} videos in line). Please "
                            "try again later.", count=total)

    async def own_job(self, person: Person, job_id: str) -> Job:
        user = await self.user(person)
        job = await self.store.get_job(job_id.strip().lstrip("#"))
        if job is None or job.user_id != user.id:
            raise UserError("no_such_job", f"No job {job_id} of yours was found. /history "
                            "lists your jobs.", job=job_id)
        return job

    async def cancel(self, person: Person, job_id: str | None = None) -> Job:
        """Cancel the named job, or the person's most recent active one."""
        if job_id:
            job = await self.own_job(person, job_id)
        else:
            user = await self.user(person)
            active = [j for j in await self.store.user_jobs(user.id, 50) if j.status.active]
            if not active:
                raise UserError("nothing_to_cancel", "You have no video waiting or running.")
            job = active[0]
        return await self.queue.cancel(job, person.key)

    async def again(self, person: Person, job_id: str, *, better: bool,
                    chat: dict | None = None) -> Job:
        """Re-roll (same settings, new seed) or better quality (same seed, next preset)."""
        job = await self.own_job(person, job_id)
        if not job.input_path.exists():
            raise UserError("input_missing", "The photo of this job is gone; send it again.")
        # The caption keeps the person's own flags; preset and seed given here win over it.
        preset, seed = job.params.preset, random.randint(*SEED)
        if better:
            preset = next_preset(job.params.preset)
            if preset is None:
                raise UserError("top_preset", "This is already the best preset.")
            seed = job.seed
        request = JobRequest(person=person, chat=chat if chat is not None else job.chat,
                             image=job.input_path.read_bytes(), caption=job.caption,
                             preset=preset, seed=seed)
        return await self.submit(request)

    # What a person can look up

    async def balance(self, person: Person) -> Balance:
        return await self.quotas.balance(await self.user(person))

    async def history(self, person: Person, limit: int = 10) -> list[Job]:
        return await self.store.user_jobs((await self.user(person)).id, limit)

    async def queue_view(self, person: Person) -> QueueView:
        user = await self.user(person)
        order = await self.queue.ordered()
        running = await self.store.jobs_with_status(JobStatus.RUNNING)
        mine = [(j, 0) for j in running if j.user_id == user.id]
        mine += [(j, i + 1) for i, j in enumerate(order) if j.user_id == user.id]
        return QueueView(len(order) + len(running), self.queue.paused, mine)

    async def set_default_preset(self, person: Person, name: str) -> User:
        name = name.strip().lower()
        if name not in PRESETS:
            raise UserError("bad_preset", f"Unknown preset '{name}'. Choose one of: "
                            f"{', '.join(PRESETS)}.", name=name, choices=", ".join(PRESETS))
        return await self.store.update_user((await self.user(person)).id, default_preset=name)


def blocked(prompt: str, words: tuple[str, ...]) -> bool:
    """Whole words for scripts with spaces ("ass" does not block "grass"); a plain substring
    for words in scripts without them, such as Chinese."""
    for word in words:
        pattern = rf"\b{re.escape(word)}\b" if word.isascii() else re.escape(word)
        if re.search(pattern, prompt, re.IGNORECASE):
            return True
    return False


def _chat_ident(chat: dict) -> str | None:
    ident = chat.get("chat_id") or chat.get("channel_id") or chat.get("guild_id")
    return None if ident is None else str(ident)

