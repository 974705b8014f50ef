"""Admin commands, the same on every platform.

Adapters call `AdminCommands.run(actor, verb, args, replied=...)` with the words typed after
`/admin` (Telegram, the CLI) or the options of a slash command (Discord). Each verb checks
that the actor is an admin again, whatever the platform showed them, and logs refusals.
Replies are in the actor's language.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.errors import UserError
from bot.jobs.lifecycle import Lifecycle
from bot.models import JobStatus, Person, Role, User
from bot.moderation import Moderation
from bot.payments import Payments
from bot.quotas import Quotas, credits, to_hundredths
from bot.service import Core
from bot.store import Store
from bot.texts import language, text
from bot.views import status_name

log = logging.getLogger(__name__)

VERBS = ("quota", "allowance", "grant", "reset", "ban", "unban", "role", "allow", "disallow",
         "pause", "resume", "cancel", "refund", "stats", "moderation")
LIFT = "lift"  # `/admin moderation USER lift`: end a person's pause for today
RECENT_REFUSALS = 10


def usage(verb: str, lang: str = "en") -> str:
    return text(f"admin_verb_{verb}", lang)


def admin_help(lang: str = "en") -> str:
    return text("admin_help", lang, verbs="\n".join(f"/admin {usage(v, lang)}" for v in VERBS))


class AdminCommands:
    """The verbs, over the parts they act on, each passed in by the composition root."""

    def __init__(self, core: Core, store: Store, quotas: Quotas, lifecycle: Lifecycle,
                 payments: Payments, moderation: Moderation) -> None:
        self.core = core
        self.store = store
        self.quotas = quotas
        self.lifecycle = lifecycle
        self.payments = payments
        self.moderation = moderation
        self.verbs: dict[str, Callable[..., Awaitable[str]]] = {
            verb: getattr(self, f"_{verb}") for verb in VERBS}

    async def is_admin(self, person: Person) -> bool:
        return (await self.core.user(person)).role is Role.ADMIN

    async def run(self, actor: Person, verb: str, args: list[str],
                  replied: Person | None = None, named: Person | None = None) -> str:
        """`replied`: the person of a replied-to message, used when no argument names one.
        `named`: a person the platform picked (Discord's user option), the first argument;
        made known only once the actor is found to be an admin."""
        if not await self.is_admin(actor):
            log.warning("admin command %r refused for %s", verb, actor.key)
            raise UserError("admin_only")
        lang = language(actor.language)
        handler = self.verbs.get(verb.lower())
        if handler is None:
            return admin_help(lang)
        args = list(args)
        if named is not None:
            await self.core.user(named)
            args.insert(0, named.platform_id)
        log.info("admin %s: %s %s", actor.key, verb, " ".join(args))
        return await handler(actor, args, replied, lang)

    async def resolve(self, actor: Person, args: list[str], replied: Person | None,
                      values: int = 0) -> User:
        """The user named by the first argument (id or @username), else the replied-to one
        (then the arguments are only the verb's `values`). Consumes the user argument."""
        if args and not (replied and len(args) <= values):
            token = args.pop(0)
            platform, _, ident = token.rpartition(":")
            platform = platform or actor.platform
            user = (await self.store.find_user_by_username(platform, ident)
                    if ident.startswith("@") else await self.store.find_user(platform, ident))
            if user is None:
                raise UserError("unknown_user", user=token)
            return user
        if replied is not None:
            return await self.core.user(replied)
        raise UserError("need_user")

    async def _quota(self, actor: Person, args: list[str], replied: Person | None,
                     lang: str) -> str:
        user = await self.resolve(actor, args, replied)
        balance = await self.quotas.balance(user)
        jobs = await self.store.user_jobs(user.id, 5)
        lines = [text("admin_quota", lang, user=user.label, role=user.role.value,
                      banned=text("admin_banned_mark", lang) if user.banned else "",
                      left=credits(balance.left), allowance=credits(balance.allowance),
                      spent=credits(balance.spent), granted=credits(balance.granted),
                      bought=credits(balance.bought))]
        lines += [text("admin_job_line", lang, job=j.id, status=status_name(j.status, lang),
                       preset=j.params.preset, seed=j.seed, prompt=j.params.prompt[:40])
                  for j in jobs]
        lines += [text("admin_payment_line", lang, charge=p.charge_id, stars=p.amount,
                       credits=credits(p.credits),
                       refunded=text("admin_refunded_mark", lang)
                       if p.refund_state == "done" else "")
                  for p in await self.store.user_payments(user.id)]
        return "\n".join(lines)

    async def _allowance(self, actor: Person, args: list[str], replied: Person | None,
                         lang: str) -> str:
        user = await self.resolve(actor, args, replied, values=1)
        value = _one(args, "allowance", lang)
        if value == "default":
            await self.store.update_user(user.id, daily_credits=None)
            return text("admin_allowance_default", lang, user=user.label)
        amount = _number(value)
        await self.store.update_user(user.id, daily_credits=amount)
        return text("admin_allowance_set", lang, user=user.label,
                    amount=credits(to_hundredths(amount)))

    async def _grant(self, actor: Person, args: list[str], replied: Person | None,
                     lang: str) -> str:
        user = await self.resolve(actor, args, replied, values=1)
        amount = to_hundredths(_number(_one(args, "grant", lang)))
        await self.quotas.grant(user, amount, actor.key)
        return text("admin_granted", lang, user=user.label, amount=credits(amount))

    async def _reset(self, actor: Person, args: list[str], replied: Person | None,
                     lang: str) -> str:
        user = await self.resolve(actor, args, replied)
        await self.quotas.reset_usage(user, actor.key)
        return text("admin_reset", lang, user=user.label)

    async def _ban(self, actor: Person, args: list[str], replied: Person | None,
                   lang: str) -> str:
        user = await self.resolve(actor, args, replied)
        if user.key == actor.key:
            raise UserError("self_ban")
        await self.store.update_user(user.id, banned=True)
        cancelled = 0
        for job in await self.store.user_jobs(user.id, 100):
            if job.status.active:
                try:
                    await self.core.cancel_job(job, actor.key)
                    cancelled += 1
                except UserError:  # it finished meanwhile
                    pass
        return text("admin_banned", lang, user=user.label, count=cancelled)

    async def _unban(self, actor: Person, args: list[str], replied: Person | None,
                     lang: str) -> str:
        user = await self.resolve(actor, args, replied)
        await self.store.update_user(user.id, banned=False)
        return text("admin_unbanned", lang, user=user.label)

    async def _role(self, actor: Person, args: list[str], replied: Person | None,
                    lang: str) -> str:
        user = await self.resolve(actor, args, replied, values=1)
        value = _one(args, "role", lang).lower()
        if value not in (Role.TRUSTED, Role.USER):
            raise UserError("bad_role")
        user = await self.core.set_role(user, Role(value))
        return text("admin_role_set", lang, user=user.label, role=user.role.value)

    async def _allow(self, actor: Person, args: list[str], replied: Person | None,
                     lang: str) -> str:
        return await self._allow_list(actor, args, replied, lang, allowed=True)

    async def _disallow(self, actor: Person, args: list[str], replied: Person | None,
                        lang: str) -> str:
        return await self._allow_list(actor, args, replied, lang, allowed=False)

    async def _allow_list(self, actor: Person, args: list[str], replied: Person | None,
                          lang: str, *, allowed: bool) -> str:
        if args and args[0].startswith("chat:"):
            kind, ident, who = "chat", args[0][5:], args[0]
        elif args and args[0].lstrip("-").isdigit():
            # An id that never wrote to the bot can be allowed before it does.
            kind, ident, who = "user", args[0], f"{actor.platform}:{args[0]}"
        else:
            user = await self.resolve(actor, args, replied)
            kind, ident, who = "user", user.platform_id, user.label
        await self.store.set_allowed(actor.platform, kind, ident, allowed, actor.key)
        return text("admin_allowed" if allowed else "admin_disallowed", lang, who=who)

    async def _pause(self, actor: Person, args: list[str], replied: Person | None,
                     lang: str) -> str:
        await self.lifecycle.set_paused(True)
        return text("admin_paused", lang)

    async def _resume(self, actor: Person, args: list[str], replied: Person | None,
                      lang: str) -> str:
        await self.lifecycle.set_paused(False)
        return text("admin_resumed", lang)

    async def _cancel(self, actor: Person, args: list[str], replied: Person | None,
                      lang: str) -> str:
        job_id = _one(args, "cancel", lang)
        job = await self.store.get_job(job_id.lstrip("#"))
        if job is None:
            raise UserError("no_such_job", job=job_id)
        job = await self.core.cancel_job(job, actor.key)
        shown = text("cancelling", lang, job=job.id) if job.status is JobStatus.RUNNING \
            else status_name(job.status, lang)
        return text("admin_cancelled", lang, job=job.id, status=shown)

    async def _refund(self, actor: Person, args: list[str], replied: Person | None,
                      lang: str) -> str:
        """`refund CHARGE_ID [force]`: the Stars back to the buyer, the credits back from
        them (all, or with `force` what is left of them)."""
        force = [word.lower() for word in args[1:]] == ["force"]
        if not (len(args) == 1 or (len(args) == 2 and force)):
            raise UserError("admin_usage", usage=usage("refund", lang))
        refund = await self.payments.refund(args[0], actor.key, force=force)
        return text("admin_refunded", lang, charge=refund.payment.charge_id,
                    user=refund.user.label, stars=refund.payment.amount,
                    credits=credits(refund.taken))

    async def _stats(self, actor: Person, args: list[str], replied: Person | None,
                     lang: str) -> str:
        since = self.quotas.period_start()
        takings = await self.payments.today()
        stars = text("admin_stats_stars", lang, taken=takings.taken, payments=takings.payments,
                     refunded=takings.refunded, refunds=takings.refunds) \
            if self.payments.packs or takings.payments or takings.refunds else ""
        counts = await self.store.jobs_by_status(since)
        shown = {s: counts.get(s, 0) for s in JobStatus if s is not JobStatus.DELIVERED}
        shown[JobStatus.DONE] += counts.get(JobStatus.DELIVERED, 0)  # made, sent or not
        top = await self.store.top_users(since)
        who = [f"@{u.username}" if u.username else f"{u.platform}:{u.platform_id}"
               for u in top]
        return text(
            "admin_stats", lang,
            counts=", ".join(f"{n} {status_name(s, lang)}" for s, n in shown.items()),
            gpu_minutes=f"{await self.store.gpu_seconds(since) / 60:.1f}",
            failures=counts.get(JobStatus.FAILED, 0), active=self.lifecycle.active(),
            paused=text("queue_paused", lang) if self.lifecycle.paused else "",
            top=", ".join(f"{w} ({u.jobs})" for w, u in zip(who, top, strict=True))
            or text("admin_stats_none", lang),
            workers=self._workers(lang),
            stars=stars, moderation=await self._moderation_today(lang),
            now=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))

    def _workers(self, lang: str) -> str:
        since = self.lifecycle.unreachable_since()
        if since is not None:  # the list Redis gave last is not what runs now
            return text("admin_workers_unreachable", lang,
                        since=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since)))
        return "; ".join(text("admin_worker", lang, name=w.name, gpu=w.gpu, done=w.jobs_done,
                              failed=w.jobs_failed, models=", ".join(w.models) or "?",
                              state=text("admin_worker_busy" if w.busy
                                         else "admin_worker_idle", lang))
                         for w in self.lifecycle.workers()) or text("admin_stats_none", lang)

    async def _moderation_today(self, lang: str) -> str:
        if not self.moderation.policy.photos:
            return text("admin_stats_moderation_off", lang)
        by_kind, paused = await self.moderation.today()
        return text("admin_stats_moderation", lang, refused=sum(by_kind.values()),
                    photos=by_kind.get("photo", 0), videos=by_kind.get("video", 0),
                    paused=paused)

    async def _moderation(self, actor: Person, args: list[str], replied: Person | None,
                          lang: str) -> str:
        """`moderation`: the recent refusals; `moderation USER`: theirs; `moderation USER
        lift`: end their pause for today."""
        lift = bool(args) and args[-1].lower() == LIFT
        if lift:
            args = args[:-1]
        user = await self.resolve(actor, args, replied) if args or replied or lift else None
        if lift:
            assert user is not None
            count = await self.moderation.lift(user)
            return text("admin_moderation_lifted", lang, user=user.label, count=count)
        policy = self.moderation.policy
        pause = text("admin_moderation_pause", lang, limit=policy.daily_limit) \
            if policy.daily_limit else text("admin_moderation_no_pause", lang)
        lines = [text("admin_moderation_header", lang, mode=policy.mode,
                      thresholds=policy.thresholds.describe(), pause=pause)]
        refusals = await self.moderation.recent(RECENT_REFUSALS, user)
        lines += [text(
            "admin_moderation_line", lang,
            when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(r.at)),
            user=f"@{r.username} ({r.user_key})" if r.username else r.user_key,
            check=text(f"moderation_check_{r.kind}", lang), label=r.label,
            score=f"{r.scores.get(r.label, 0.0):.2f}",
            job=text("admin_moderation_job", lang, job=r.job_id) if r.job_id else "",
            sha=(r.photo_sha256 or "-")[:16],
            kept=text("admin_moderation_kept", lang, path=r.kept_path) if r.kept_path else "",
            lifted=text("admin_moderation_lifted_mark", lang) if r.lifted else "")
            for r in refusals] or [text("admin_moderation_none", lang)]
        return "\n".join(lines)


def _one(args: list[str], verb: str, lang: str) -> str:
    if len(args) != 1:
        raise UserError("admin_usage", usage=usage(verb, lang))
    return args[0]


def _number(value: str) -> float:
    try:
        amount = float(value)
    except ValueError:
        amount = -1
    if not 0 <= amount <= 100000:
        raise UserError("bad_credits", value=value)
    return amount
