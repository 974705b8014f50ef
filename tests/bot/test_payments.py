"""Packs, checkouts, crediting exactly once, refunds: the rules of bot/payments.py on a real
store; the platform that gives Stars back is the Refunder port's fake."""

from __future__ import annotations

import asyncio

import pytest

from adapters.app import App
from bot.errors import UserError
from bot.models import Person
from bot.payments import Charge, Pack
from tests.bot.conftest import make_settings
from tests.fake_executor import FakeExecutor
from tests.fake_refunder import FakeRefunder

TEN = Pack(1000, 50)


@pytest.fixture
async def shop(tmp_path):
    app = await App.build(make_settings(tmp_path / "data", I2V_CREDIT_PACKS="10:50,2.5:15",
                                        I2V_DAILY_CREDITS=0), executor=FakeExecutor())
    yield app
    await app.close()


def test_a_checkout_buys_only_what_is_offered_at_the_price_shown(shop):
    assert shop.payments.packs == (TEN, Pack(250, 15))
    assert shop.payments.check(TEN.payload, "XTR", 50) == TEN
    for payload, currency, amount, key in [
            ("credits:500:20", "XTR", 20, "pack_gone"),  # not (or no longer) on the list
            ("something else", "XTR", 50, "pack_gone"),
            (TEN.payload, "USD", 50, "pack_gone"),
            ("credits:1000:40", "XTR", 40, "pack_price_changed"),  # the price went up
            (TEN.payload, "XTR", 49, "pack_price_changed")]:
        with pytest.raises(UserError) as refused:
            shop.payments.check(payload, currency, amount)
        assert refused.value.key == key, payload


async def test_a_payment_reported_many_times_at_once_is_credited_once(shop):
    user = await shop.core.user(Person("telegram", "7"))
    charge = Charge("stx1", "XTR", 50, TEN.payload)
    results = await asyncio.gather(*(shop.payments.credit(user, charge) for _ in range(8)))
    assert [r.new for r in results].count(True) == 1
    assert {r.balance.bought for r in results} <= {1000}
    assert await shop.store.bought_total(user.id) == 1000
    assert [e.kind for e in await shop.store.ledger(user.id)] == ["purchase"]


async def test_a_payment_for_an_unknown_payload_is_kept_for_a_refund(shop):
    user = await shop.core.user(Person("telegram", "8"))
    purchase = await shop.payments.credit(user, Charge("stx2", "XTR", 9, "not ours"))
    assert purchase.new and purchase.credits == 0
    assert (await shop.store.get_payment("stx2")).amount == 9


async def test_a_refund_needs_the_platform_that_took_the_money(shop):
    user = await shop.core.user(Person("telegram", "9"))
    await shop.payments.credit(user, Charge("stx3", "XTR", 50, TEN.payload))
    with pytest.raises(UserError, match="Telegram is not connected") as refused:
        await shop.payments.refund("stx3", "cli:boss")
    assert refused.value.key == "refund_unavailable"
    assert await shop.store.bought_total(user.id) == 1000


async def test_two_admins_refunding_at_once_take_the_credits_once(shop):
    refunds = FakeRefunder()
    shop.payments.connect("telegram", refunds)
    user = await shop.core.user(Person("telegram", "10"))
    await shop.payments.credit(user, Charge("stx4", "XTR", 50, TEN.payload))
    await shop.payments.credit(user, Charge("stx5", "XTR", 50, TEN.payload))
    results = await asyncio.gather(shop.payments.refund("stx4", "telegram:1"),
                                   shop.payments.refund("stx4", "discord:2"),
                                   return_exceptions=True)
    assert all(not isinstance(r, Exception) for r in results), results
    assert await shop.store.bought_total(user.id) == 1000  # the other payment's credits
    assert (await shop.store.get_payment("stx4")).refund_state == "done"
    assert set(refunds.asked) == {("10", "stx4")}


async def test_a_refused_refund_gives_the_credits_back(shop):
    refunds = FakeRefunder()
    refunds.refuse = "Charge_not_found"
    shop.payments.connect("telegram", refunds)
    user = await shop.core.user(Person("telegram", "11"))
    await shop.payments.credit(user, Charge("stx6", "XTR", 50, TEN.payload))
    with pytest.raises(UserError, match="did not refund payment stx6: Charge_not_found"):
        await shop.payments.refund("stx6", "telegram:1")
    assert await shop.store.bought_total(user.id) == 1000
    assert (await shop.store.get_payment("stx6")).refund_state is None
    refunds.refuse = None
    refund = await shop.payments.refund("stx6", "telegram:1")
    assert refund.taken == 1000 and await shop.store.bought_total(user.id) == 0
    takings = await shop.payments.today()
    assert (takings.taken, takings.payments, takings.refunded, takings.refunds) == \
        (50, 1, 50, 1)
