"""Admin commands, the same on every platform.

Adapters call `AdminCommands.run(actor, verb, args, replied=...)` with the words typed after
`/admin` (Telegram, the CLI) or the options of a slash command (Discord). Each verb checks
that the actor is an admin again, whatever the platform showed them, and logs refusals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import aiosqlite

from bot.models import JobStatus, Person, Role, User
from bot.quotas import credits, to_hundredths
from bot.service import Core
from engine.errors import UserError

log = logging.getLogger(__name__)

USAGE = {
    "quota": "quota USER: credits and recent jobs",
    "allowance": "allowance USER CREDITS: set the daily allowance ('default' to clear)",
    "grant": "grant USER CREDITS: add credits for today",
    "reset": "reset USER: reset today's usage",
    "ban": "ban USER",
    "unban": "unban USER",
    "role": "role USER trusted|user (admins are set in I2V_ADMINS)",
    "allow": "allow USER|chat:ID: add to the allow-list",
    "disallow": "disallow USER|chat:ID: remove from the allow-list",
    "pause": "pause: stop starting new jobs",
    "resume": "resume: start jobs again",
    "cancel": "cancel JOB: cancel anyone's job",
    "stats": "stats: today's jobs, GPU time, failures, queue, top users",
}
ADMIN_HELP = "Admin commands:\n" + "\n".join(f"/admin {line}" for line in USAGE.values()) + \
    "\nUSER is an id, @username, or omitted when replying to the person's message."


class AdminCommands:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.store = core.store
        self.verbs: dict[str, Callable[..., Awaitable[str]]] = {
            "quota": self.quota, "allowance": self.allowance, "grant": self.grant,
            "reset": self.reset, "ban": self.ban, "unban": self.unban, "role": self.role,
            "allow": self.allow, "disallow": self.disallow, "pause": self.pause,
            "resume": self.resume, "cancel": self.cancel, "stats": self.stats,
        }

    async def is_admin(self, person: Person) -> bool:
        return (await self.core.user(person)).role is Role.ADMIN

    async def run(self, actor: Person, verb: str, args: list[str],
                  replied: Person | None = None) -> str:
        if not await self.is_admin(actor):
            log.warning("admin command %r refused for %s", verb, actor.key)
            raise UserError("admin_only", "This command is for admins.")
        handler = self.verbs.get(verb.lower())
        if handler is None:
            return ADMIN_HELP
        log.info("admin %s: %s %s", actor.key, verb, " ".join(args))
        return await handler(actor, args, replied)

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
                raise UserError("unknown_user", f"No user {token} has used this bot yet.",
                                user=token)
            return user
        if replied is not None:
            return await self.core.user(replied)
        raise UserError("need_user", "Name the user: an id, @username, or reply to their "
                        "message.")

    async def quota(self, actor: Person, args: list[str], replied: Person | None) -> str:
        user = await self.resolve(actor, args, replied)
        balance = await self.core.quotas.balance(user)
        jobs = await self.store.user_jobs(user.id, 5)
        lines = [f"{user.label}: role {user.role}{' (banned)' if user.banned else ''}, "
                 f"{credits(balance.left)} of {credits(balance.allowance)} credits left "
                 f"(spent {credits(balance.spent)}, granted {credits(balance.granted)})"]
        lines += [f"{j.id} {j.status} {j.params.preset} seed {j.seed} {j.params.prompt[:40]}"
                  for j in jobs]
        return "\n".join(lines)

    async def allowance(self, actor: Person, args: list[str], replied: Person | None) -> str:
        user = await self.resolve(actor, args, replied, values=1)
        value = _one(args, "allowance USER CREDITS")
        amount = None if value == "default" else _number(value)
        await self.store.update_user(user.id, daily_credits=amount)
        shown = "back to the default" if amount is None else credits(to_hundredths(amount))
        return f"{user.label}: daily allowance {shown}."

    async def grant(self, actor: Person, args: list[str], replied: Person | None) -> str:
        user = await self.resolve(actor, args, replied, values=1)
        amount = to_hundredths(_number(_one(args, "grant USER CREDITS")))
        await self.core.quotas.grant(user, amount, actor.key)
        return f"{user.label}: {credits(amount)} credits added for today."

    async def reset(self, actor: Person, args: list[str], replied: Person | None) -> str:
        user = await self.resolve(actor, args, replied)
        await self.core.quotas.reset_usage(user, actor.key)
        return f"{user.label}: today's usage reset."

    async def ban(self, actor: Person, args: list[str], replied: Person | None) -> str:
        user = await self.resolve(actor, args, replied)
        if user.key == actor.key:
            raise UserError("self_ban", "You cannot ban yourself.")
        await self.store.update_user(user.id, banned=True)
        cancelled = 0
        for job in await self.store.user_jobs(user.id, 100):
            if job.status.active:
                try:
                    await self.core.queue.cancel(job, actor.key)
                    cancelled += 1
                except UserError:  # it finished meanwhile
                    pass
        return f"{user.label} is banned ({cancelled} of their jobs cancelled)."

    async def unban(self, actor: Person, args: list[str], replied: Person | None) -> str:
        user = await self.resolve(actor, args, replied)
        await self.store.update_user(user.id, banned=False)
        return f"{user.label} is no longer banned."

    async def role(self, actor: Person, args: list[str], replied: Person | None) -> str:
        user = await self.resolve(actor, args, replied, values=1)
        value = _one(args, USAGE["role"]).lower()
        if value not in (Role.TRUSTED, Role.USER):
            raise UserError("bad_role", "Role must be trusted or user; admins are the people "
                            "listed in I2V_ADMINS.")
        role = Role(value)
        await self.store.update_user(user.id, role=role)
        return f"{user.label} is now {role}."

    async def allow(self, actor: Person, args: list[str], replied: Person | None) -> str:
        return await self._allow(actor, args, replied, True)

    async def disallow(self, actor: Person, args: list[str], replied: Person | None) -> str:
        return await self._allow(actor, args, replied, False)

    async def _allow(self, actor: Person, args: list[str], replied: Person | None,
                     allowed: bool) -> str:
        if args and args[0].startswith("chat:"):
            kind, ident, label = "chat", args[0][5:], args[0]
        elif args and args[0].lstrip("-").isdigit():
            # An id that never wrote to the bot can be allowed before it does.
            kind, ident, label = "user", args[0], f"{actor.platform}:{args[0]}"
        else:
            user = await self.resolve(actor, args, replied)
            kind, ident, label = "user", user.platform_id, user.label
        await self.store.set_allowed(actor.platform, kind, ident, allowed, actor.key)
        return f"{label} {'added to' if allowed else 'removed from'} the allow-list."

    async def pause(self, actor: Person, args: list[str], replied: Person | None) -> str:
        await self.core.queue.set_paused(True)
        return "Queue paused: running jobs finish, new ones wait."

    async def resume(self, actor: Person, args: list[str], replied: Person | None) -> str:
        await self.core.queue.set_paused(False)
        return "Queue resumed."

    async def cancel(self, actor: Person, args: list[str], replied: Person | None) -> str:
        job_id = _one(args, "cancel JOB")
        job = await self.store.get_job(job_id.lstrip("#"))
        if job is None:
            raise UserError("no_such_job", f"No job {job_id}.", job=job_id)
        job = await self.core.queue.cancel(job, actor.key)
        return f"Job {job.id}: {'cancelling' if job.status is JobStatus.RUNNING else job.status}."

    async def stats(self, actor: Person, args: list[str], replied: Person | None) -> str:
        since = self.core.quotas.period_start()
        by_status = await self.store.rows(
            "SELECT status, count(*) FROM jobs WHERE created_at >= ? GROUP BY status", (since,))
        gpu = await self.store.scalar(
            """SELECT coalesce(sum(finished_at - started_at), 0) FROM jobs
               WHERE started_at >= ? AND finished_at IS NOT NULL""", (since,))
        top = await self.store.rows(
            """SELECT users.platform, users.platform_id, users.username, count(*) AS n
               FROM jobs JOIN users ON users.id = jobs.user_id WHERE jobs.created_at >= ?
               GROUP BY users.id ORDER BY n DESC LIMIT 5""", (since,))
        counts = {row[0]: row[1] for row in by_status}
        lines = [
            "Today: " + (", ".join(f"{counts.get(s.value, 0)} {s.value}" for s in JobStatus)),
            f"GPU time: {gpu / 60:.1f} min; failures: {counts.get('failed', 0)}",
            f"Queue: {await self.store.count_active()} active"
            f"{' (paused)' if self.core.queue.paused else ''}",
            "Top users: " + (", ".join(f"{_who(r)} ({r['n']})" for r in top) or "none"),
            f"As of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        ]
        return "\n".join(lines)


def _who(row: aiosqlite.Row) -> str:
    return f"@{row['username']}" if row["username"] else f"{row['platform']}:{row['platform_id']}"


def _one(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise UserError("admin_usage", f"Usage: /admin {usage}", usage=usage)
    return args[0]


def _number(value: str) -> float:
    try:
        amount = float(value)
    except ValueError:
        amount = -1
    if not 0 <= amount <= 100000:
        raise UserError("bad_credits", f"'{value}' is not a number of credits (0-100000).",
                        value=value)
    return amount
