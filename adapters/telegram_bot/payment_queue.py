"""The queue python-telegram-bot's updater puts updates into, storing payments first.

The updater confirms updates to Telegram as soon as they are queued, before any handler has
run: polling sends the next getUpdates with their offset right away, and a webhook answers
200 once `put` returns. A process killed between that and a handler's commit would lose a
paid credit, since Telegram would not deliver the payment again. So `put` credits a
successful payment (idempotent: keyed by its charge id) before it lets the update in. Until
that is stored the update is not confirmed, and after a crash Telegram delivers it again,
which then credits nothing more. The receipt is the handler's (shop.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from telegram import SuccessfulPayment, Update
from telegram import User as TgUser

from adapters.telegram_bot.people import person_of
from bot.payments import Charge, Purchase
from bot.ports import CorePort

log = logging.getLogger(__name__)

RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # then every 30 s: a paid credit is never dropped


def charge_of(payment: SuccessfulPayment) -> Charge:
    return Charge(charge_id=payment.telegram_payment_charge_id, currency=payment.currency,
                  amount=payment.total_amount, payload=payment.invoice_payload,
                  provider_charge_id=payment.provider_payment_charge_id or None)


class PaymentFirstQueue(asyncio.Queue[object]):
    def __init__(self, core: CorePort) -> None:
        super().__init__()
        self.core = core
        self._credited: dict[str, Purchase] = {}  # for the receipts, by charge id

    async def put(self, item: object) -> None:
        message = item.message if isinstance(item, Update) else None
        if message is not None and message.successful_payment is not None \
                and message.from_user is not None:
            await self._store(message.from_user, message.successful_payment)
        await super().put(item)

    def credited(self, charge_id: str) -> Purchase | None:
        """What storing this payment found, once (the receipt's figures)."""
        return self._credited.pop(charge_id, None)

    async def _store(self, buyer: TgUser, payment: SuccessfulPayment) -> None:
        """Credit the payment, trying again while the store fails: the updates behind it
        wait, since confirming them would confirm this one too."""
        for attempt in itertools.count():
            try:
                purchase = await self.core.purchase(person_of(buyer), charge_of(payment))
            except Exception:
                delay = RETRY_S[min(attempt, len(RETRY_S) - 1)]
                log.error("payment %s user %s (%d %s) could not be stored; trying again in "
                          "%.0f s, and Telegram keeps it until then",
                          payment.telegram_payment_charge_id, buyer.id, payment.total_amount,
                          payment.currency, delay, exc_info=True)
                await asyncio.sleep(delay)
            else:
                self._credited[purchase.charge_id] = purchase
                return
