"""Credit packs sold for Telegram Stars: the offer, the checkout's checks, crediting a payment
exactly once, and refunds.

A pack's invoice payload names what it sells ("credits:1000:50": 10 credits for 50 Stars), so
the pre-checkout query is checked against today's offer, and a successful payment credits
what the buyer was shown even if the operator changed the packs in between. A payment is
stored under Telegram's charge id together with its ledger row, in one transaction: the same
payment delivered again adds nothing (`Store.record_payment`).

Refunds go through the platform that took the money: its adapter provides a `Refunder` (the
port) and the composition root connects it. The credits are taken back first, then the
platform is asked; a refusal gives them back. A refund cut off in between stays 'pending' and
the next `refund` of that charge finishes it (the adapter reports a payment the platform had
already refunded as done).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.errors import UserError
from bot.models import User
from bot.quotas import Balance, Quotas, credits
from bot.store import Payment, Store, Takings

log = logging.getLogger(__name__)

CURRENCY = "XTR"  # Telegram Stars: what Telegram requires for digital goods
PAYLOAD_PREFIX = "credits"


@dataclass(frozen=True)
class Pack:
    """Credits (in hundredths) for a price in whole Stars."""

    credits: int
    stars: int

    @property
    def payload(self) -> str:
        return f"{PAYLOAD_PREFIX}:{self.credits}:{self.stars}"

    @classmethod
    def from_payload(cls, payload: str) -> Pack | None:
        prefix, _, rest = payload.partition(":")
        amount, _, stars = rest.partition(":")
        if prefix != PAYLOAD_PREFIX or not amount.isdigit() or not stars.isdigit():
            return None
        return cls(int(amount), int(stars))


@dataclass(frozen=True)
class Charge:
    """A payment as the platform confirmed it (Telegram's successful_payment)."""

    charge_id: str
    currency: str
    amount: int
    payload: str
    provider_charge_id: str | None = None


@dataclass(frozen=True)
class Purchase:
    charge_id: str
    credits: int  # what the payment added, in hundredths
    balance: Balance  # after it
    new: bool  # False: credited before (the same payment delivered again)


@dataclass(frozen=True)
class Refund:
    payment: Payment
    user: User
    taken: int  # credits taken back, in hundredths


class RefundFailed(Exception):
    """The platform did not refund the payment: its reason, for the admin."""


class Refunder(Protocol):
    """The port a platform that takes payments provides: give one back."""

    async def refund(self, platform_id: str, charge_id: str) -> None:
        """Refund `charge_id`, paid by the platform's user `platform_id`. Returns when it is
        refunded (also when the platform had refunded it before); RefundFailed otherwise."""
        ...


class Payments:
    def __init__(self, store: Store, quotas: Quotas, packs: Sequence[Pack] = (),
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.quotas = quotas
        self.packs = tuple(packs)
        self.clock = clock
        self._refunders: dict[str, Refunder] = {}

    def connect(self, platform: str, refunder: Refunder) -> None:
        self._refunders[platform] = refunder

    def check(self, payload: str, currency: str, amount: int) -> Pack:
        """What a checkout buys, if it is still on offer at the price the buyer saw."""
        pack = Pack.from_payload(payload)
        offered = next((p for p in self.packs if pack and p.credits == pack.credits), None)
        if pack is None or offered is None or currency != CURRENCY:
            raise UserError("pack_gone")
        if offered.stars != pack.stars or amount != pack.stars:
            raise UserError("pack_price_changed")
        return pack

    async def credit(self, user: User, charge: Charge) -> Purchase:
        """Add a payment's credits to the user's bought ones, once whatever how often the
        platform reports it."""
        pack = Pack.from_payload(charge.payload)
        if pack is None:  # never one of our invoices: keep the payment, for a refund
            log.error("payment %s user %s: %d %s for an unknown payload %r; refund it with "
                      "`/admin refund %s`", charge.charge_id, user.key, charge.amount,
                      charge.currency, charge.payload, charge.charge_id)
        new = await self.store.record_payment(Payment(
            charge_id=charge.charge_id, user_id=user.id, platform=user.platform,
            currency=charge.currency, amount=charge.amount, credits=pack.credits if pack else 0,
            payload=charge.payload, at=self.clock(),
            provider_charge_id=charge.provider_charge_id))
        stored = await self.store.get_payment(charge.charge_id)
        assert stored is not None
        if new:
            log.info("payment %s user %s: %d %s, %s credits added", charge.charge_id, user.key,
                     charge.amount, charge.currency, credits(stored.credits))
        else:
            log.info("payment %s user %s: delivered again, credited before", charge.charge_id,
                     user.key)
        return Purchase(charge.charge_id, stored.credits, await self.quotas.balance(user), new)

    async def refund(self, charge_id: str, actor: str, *, force: bool = False) -> Refund:
        """Give a payment back and take back its credits. Refused when some are spent
        (unless `force`: then what is left is taken)."""
        payment = await self.store.get_payment(charge_id)
        if payment is None:
            raise UserError("no_such_payment", charge=charge_id)
        if payment.refund_state == "done":
            raise UserError("already_refunded", charge=charge_id)
        refunder = self._refunders.get(payment.platform)
        if refunder is None:
            raise UserError("refund_unavailable", platform=payment.platform.capitalize())
        user = await self.store.get_user(payment.user_id)
        assert user is not None
        if payment.refund_state is None:
            payment = await self._take_back(payment, actor, force)
        try:
            await refunder.refund(user.platform_id, charge_id)
        except RefundFailed as exc:
            await self.store.undo_refund(payment, str(exc))
            log.warning("payment %s user %s: refund refused by %s: %s", charge_id, user.key,
                        payment.platform, exc)
            raise UserError("refund_failed", charge=charge_id, reason=str(exc)) from exc
        await self.store.finish_refund(charge_id, self.clock())
        taken = payment.refund_credits or 0
        log.info("payment %s user %s: refunded by %s, %s credits taken back", charge_id,
                 user.key, actor, credits(taken))
        return Refund(payment, user, taken)

    async def _take_back(self, payment: Payment, actor: str, force: bool) -> Payment:
        """The credits a refund takes, checked and written in one transaction (the buyer
        cannot spend them in between)."""
        async with self.store.transaction():
            current = await self.store.get_payment(payment.charge_id)
            assert current is not None
            if current.refund_state is None:  # else another admin's refund began meanwhile
                left = max(0, await self.store.bought_total(payment.user_id))
                take = min(payment.credits, left)
                if take < payment.credits and not force:
                    raise UserError("refund_spent", charge=payment.charge_id,
                                    credits=credits(payment.credits), left=credits(take),
                                    spent=credits(payment.credits - take))
                await self.store.begin_refund(payment, take, actor)
        stored = await self.store.get_payment(payment.charge_id)
        assert stored is not None
        return stored

    async def today(self) -> Takings:
        """Stars taken and given back since the last reset hour."""
        return await self.store.takings(self.quotas.period_start())
