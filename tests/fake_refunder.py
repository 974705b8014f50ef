"""A stand-in for the platform side of the Refunder port (bot/payments.py): it records what
it was asked to refund and refuses when told to, as Telegram's refundStarPayment would."""

from __future__ import annotations

import asyncio

from bot.payments import RefundFailed


class FakeRefunder:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []  # (the platform's user id, charge id)
        self.refuse: str | None = None  # the platform's reason, while set

    async def refund(self, platform_id: str, charge_id: str) -> None:
        self.asked.append((platform_id, charge_id))
        await asyncio.sleep(0)  # another task may run meanwhile, as during a request
        if self.refuse:
            raise RefundFailed(self.refuse)
