"""Credits: what a job costs, what a user may spend today, and the ledger that explains it.

Amounts are integers in hundredths of a credit so that the ledger adds up exactly. I2VGen-XL's
standard preset costs 1 credit; other jobs cost in proportion to pixels x frames x steps,
times their model's cost factor (its compute per unit of that, measured in FLOPs).
A balance has two pools. Today's: the day's allowance plus the sum of the daily ledger rows
since the last reset hour. Bought (with Telegram Stars, bot/payments.py): the sum of every
bought row, whenever it was written, so it never resets. A job spends today's credits first,
then bought ones, and a failed or cancelled job gives each pool back what it took from it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import UserError
from bot.models import Job, Role, User
from bot.store import Store
from engine.spec.params import DEFAULT_PRESET, GenParams, card

Clock = Callable[[], float]


def _work(params: GenParams) -> int:
    # The nominal pixel budget, not the photo-shaped size: the same preset costs the same
    # whatever the photo's aspect ratio.
    if params.width is not None and params.height is not None:
        pixels = params.width * params.height
    else:
        pixels = params.card.resolutions[params.resolution] ** 2
    return round(pixels * params.frames * params.steps * params.card.cost_factor)


STANDARD_WORK = _work(GenParams.from_preset("standard", "x"))


def job_cost(params: GenParams) -> int:
    """Cost in hundredths of a credit, at least 1; the speed mode at its model's share of
    the compute (the card's fast_share, counted in FLOPs)."""
    work = _work(params) * (params.card.fast_share if params.fast else 1.0)
    return max(1, math.ceil(100 * work / STANDARD_WORK))


def credits(amount: int | None) -> str:
    """Hundredths as a short credit figure: 100 -> '1', 25 -> '0.25'."""
    if amount is None:
        return "∞"
    return f"{amount / 100:.2f}".rstrip("0").rstrip(".")


def to_hundredths(value: float) -> int:
    return round(value * 100)


def hours_until(moment: float, now: float) -> int:
    """Whole hours to wait, rounded up (at least 1): "about 3 h" never means 3 h 40."""
    return max(1, math.ceil((moment - now) / 3600))


def preset_costs(model: str) -> dict[str, int]:
    """Each preset's cost for `model`, in hundredths."""
    return {name: job_cost(GenParams.from_preset(name, "x", model=model))
            for name in card(model).presets}


BOUGHT = "bought"  # the ledger's pool of bought credits (the other: "daily")


def recipe_costs(model: str) -> dict[str, int]:
    """Each of `model`'s recipes' cost, in hundredths (its size as the recipe gives it)."""
    return {name: job_cost(GenParams.from_preset(DEFAULT_PRESET, "x", model=model,
                                                 recipe=name))
            for name in card(model).recipes}


@dataclass(frozen=True)
class Balance:
    allowance: int | None  # None: unlimited
    spent: int  # of today's credits, net of refunds, since the last reset
    granted: int  # extra credits given by admins since the last reset
    left: int | None  # of today's credits
    resets_at: float
    bought: int = 0  # bought credits left: they do not reset

    @property
    def spendable(self) -> int | None:
        return None if self.left is None else self.left + self.bought


class Quotas:
    def __init__(self, store: Store, *, daily_credits: float, trusted_daily_credits: float,
                 reset_hour_utc: int = 0, clock: Clock = time.time) -> None:
        self.store = store
        self.daily = to_hundredths(daily_credits)
        self.trusted_daily = to_hundredths(trusted_daily_credits)
        self.reset_hour = reset_hour_utc
        self.clock = clock

    def period_start(self) -> float:
        now = datetime.fromtimestamp(self.clock(), UTC)
        start = now.replace(hour=self.reset_hour, minute=0, second=0, microsecond=0)
        if start > now:
            start -= timedelta(days=1)
        return start.timestamp()

    def allowance(self, user: User) -> int | None:
        if user.role is Role.ADMIN:
            return None
        if user.daily_credits is not None:
            return to_hundredths(user.daily_credits)
        return self.trusted_daily if user.role is Role.TRUSTED else self.daily

    async def balance(self, user: User) -> Balance:
        since = self.period_start()
        granted, usage = await self.store.ledger_totals(user.id, since)
        allowance = self.allowance(user)
        left = None if allowance is None else allowance + granted + usage
        return Balance(allowance, -usage, granted, left, since + 86400,
                       bought=await self.store.bought_total(user.id))

    async def reserve(self, user: User, job_id: str | None, cost: int) -> None:
        """Take the cost from today's credits, the rest from bought ones, or refuse. Call
        inside a store transaction together with the job's insert, so the check and the
        writes are one step."""
        balance = await self.balance(user)
        if balance.left is None:
            await self.store.add_ledger(user.id, -cost, "reserve", job_id=job_id)
            return
        today = min(cost, max(balance.left, 0))
        rest = cost - today
        if rest > balance.bought:
            raise UserError("quota_exceeded", cost=credits(cost),
                            left=credits(balance.spendable),
                            hours=hours_until(balance.resets_at, self.clock()))
        if today:
            await self.store.add_ledger(user.id, -today, "reserve", job_id=job_id)
        if rest:
            await self.store.add_ledger(user.id, -rest, "reserve", job_id=job_id, pool=BOUGHT)

    async def refund(self, job: Job, why: str) -> None:
        """Give back what a job still holds, to the pool it came from; a second call finds
        nothing to give back."""
        held = await self.store.job_ledger_by_pool(job.id)
        if any(amount < 0 for amount in held.values()):
            # Dated like the reservation, so today's part goes back to the day it was taken
            # from: a job reserved before the reset hour and cancelled after it adds nothing
            # today. Bought credits come back whatever the day.
            reserved_at = await self.store.reserved_at(job.id)
            for pool, amount in held.items():
                if amount < 0:
                    await self.store.add_ledger(job.user_id, -amount, "refund", job_id=job.id,
                                                note=why, at=reserved_at, pool=pool)

    async def grant(self, user: User, amount: int, actor: str) -> None:
        await self.store.add_ledger(user.id, amount, "grant", actor=actor)

    async def reset_usage(self, user: User, actor: str) -> None:
        """Give back today's spending, except what waiting or running jobs still hold:
        that comes back by itself if they fail."""
        balance = await self.balance(user)
        held = await self.store.held_by_active_jobs(user.id, self.period_start())
        if balance.spent - held > 0:
            await self.store.add_ledger(user.id, balance.spent - held, "reset", actor=actor,
                                        note="today's usage reset")
