"""Buying credits with Telegram Stars through the real python-telegram-bot: the packs and
their invoices, the pre-checkout answer, crediting exactly once, the receipt, refunds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.adapters.telegram_bot.conftest import (
    ADMIN_ID,
    Harness,
    Person,
    ask,
    start_harness,
    stop_harness,
)
from tests.fake_executor import FakeExecutor

PACKS = "10:50,2.5:15"
TEN = "credits:1000:50"  # the invoice payload of the 10-credit pack
SMALL = "credits:250:15"


@pytest.fixture
async def shop(api, tmp_path) -> AsyncIterator[Harness]:
    harness = await start_harness(api, tmp_path / "data", FakeExecutor(),
                                  I2V_CREDIT_PACKS=PACKS, I2V_DAILY_CREDITS=1,
                                  I2V_PAY_SUPPORT="Write to @operator about payments.")
    yield harness
    await stop_harness(harness)


async def bought(harness: Harness, uid: int) -> int:
    user = await harness.app.store.find_user("telegram", str(uid))
    return await harness.app.store.bought_total(user.id)


async def purchases(harness: Harness, uid: int) -> list[str]:
    user = await harness.app.store.find_user("telegram", str(uid))
    return [e.charge_id for e in await harness.app.store.ledger(user.id)
            if e.kind == "purchase"]


async def pay(person: Person, payload: str, stars: int, charge_id: str,
              receipts: int = 1) -> str:
    """Pay (the checkout first, as Telegram does) and wait for the receipt."""
    assert (await person.checkout(payload, stars)).fields["ok"] is True
    await person.api.push(person.payment(payload, stars, charge_id))
    await person.api.wait_for(lambda: len(receipts_of(person)) >= receipts)
    return receipts_of(person)[receipts - 1]


def receipts_of(person: Person) -> list[str]:
    return [t for t in person.replies() if "credits added" in t]


async def test_a_pack_is_bought_with_stars_and_credited_once(shop, api):
    ann = shop.person(70)
    menu = await ask(ann, "/buy")
    assert "Credits for Telegram Stars" in menu and "Credits left today: 1 of 1" in menu
    sent = api.of("sendMessage", chat_id=ann.chat_id)[-1]
    buttons = [b for row in sent.fields["reply_markup"]["inline_keyboard"] for b in row]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("10 credits · 50 ⭐", f"buy:{TEN}"), ("2.5 credits · 15 ⭐", f"buy:{SMALL}")]

    await ann.press(sent.result["result"], f"buy:{TEN}")
    invoice = await api.wait_call("sendInvoice", chat_id=ann.chat_id)
    assert invoice.result["ok"]
    assert invoice.fields["currency"] == "XTR" and not invoice.fields.get("provider_token")
    assert invoice.fields["prices"] == [{"label": "10 credits", "amount": 50}]
    assert invoice.fields["payload"] == TEN and invoice.fields["title"] == "10 credits"
    assert "@i2v_test_bot" in invoice.fields["description"]

    receipt = await pay(ann, TEN, 50, "stxANN1")
    assert "10 credits added (payment stxANN1)" in receipt and "Bought credits: 10" in receipt
    assert await bought(shop, 70) == 1000

    # The same payment reported again (a replay, a redelivery) credits nothing more.
    await api.push(ann.payment(TEN, 50, "stxANN1"))
    await api.wait_for(lambda: len(receipts_of(ann)) == 2)
    assert "Bought credits: 10;" in receipts_of(ann)[1]
    assert await bought(shop, 70) == 1000 and await purchases(shop, 70) == ["stxANN1"]

    quota = await ask(ann, "/quota")
    assert "Bought credits: 10 (they do not reset" in quota and "More credits: /buy" in quota
    menus = {c.fields.get("language_code"): [cmd["command"] for cmd in c.fields["commands"]]
             for c in api.of("setMyCommands")}
    assert {"buy", "paysupport", "terms"} <= set(menus[None]) and "buy" in menus["zh"]


async def test_a_checkout_is_refused_for_a_banned_buyer_and_an_old_offer(shop, api):
    mallory, admin = shop.person(71, username="mallory"), shop.person(ADMIN_ID)
    await ask(mallory, "/start")
    assert "is banned" in await ask(admin, "/admin ban @mallory")
    answer = await mallory.checkout(TEN, 50)
    assert answer.fields["ok"] is False
    assert answer.fields["error_message"] == "You cannot use this bot."

    li = shop.person(72, lang="zh")
    gone = await li.checkout("credits:500:20", 20)  # a pack the operator took off the list
    assert gone.fields["ok"] is False and "已下架" in gone.fields["error_message"]
    dearer = await shop.person(73).checkout("credits:1000:40", 40)  # the old price
    assert dearer.fields["ok"] is False and "price of this pack has changed" in \
        dearer.fields["error_message"]
    assert (await shop.person(74).checkout(TEN, 50)).fields["ok"] is True

    stale = await ask(shop.person(73), "/buy")
    assert "Credits for Telegram Stars" in stale
    message = api.of("sendMessage", chat_id=73)[-1].result["result"]
    query = await shop.person(73).press(message, "buy:credits:500:20")
    alert = await shop.person(73).answer(query)
    assert "no longer offered" in alert.fields["text"] and not api.of("sendInvoice")


async def test_a_refund_gives_the_stars_back_and_takes_the_credits(shop, api):
    ann, admin = shop.person(80), shop.person(ADMIN_ID)
    await pay(ann, TEN, 50, "stxR1")
    assert await bought(shop, 80) == 1000
    answer = await ask(admin, "/admin refund stxR1")
    assert answer == "Payment stxR1 of User80 (telegram:80): 50 Stars given back, 10 " \
        "credits taken back."
    refund = api.of("refundStarPayment")[-1]
    assert refund.fields == {"user_id": 80, "telegram_payment_charge_id": "stxR1"}
    assert await bought(shop, 80) == 0
    assert "refunded already" in await ask(admin, "/admin refund stxR1")
    assert "payment stxR1: 50 Stars for 10 credits (refunded)" in await ask(admin,
                                                                           "/admin quota 80")
    assert "No payment nope" in await ask(admin, "/admin refund nope")
    assert await ask(ann, "/admin refund stxR1") == "This command is for admins."
    stats = await ask(admin, "/admin stats")
    assert "Stars: 50 taken in 1 payments, 50 given back in 1 refunds" in stats


async def test_a_refund_is_refused_when_credits_are_spent_unless_forced(shop, api):
    bob, admin = shop.person(81), shop.person(ADMIN_ID)
    await pay(bob, SMALL, 15, "stxS1")
    # Today's credit goes first: 0.3 of it for a preview, then the standard preset's 1 is
    # the 0.7 left of today's and 0.3 bought.
    await bob.photo("a kite flying --preset preview")
    await bob.wait_video(1)
    await bob.photo("a kite flying --preset standard")
    await bob.wait_video(2)
    assert await bought(shop, 81) == 250 - 30
    refused = await ask(admin, "/admin refund stxS1")
    assert refused == ("Payment stxS1 bought 2.5 credits and 0.3 of them are spent (2.2 "
                       "left): nothing was refunded. `/admin refund stxS1 force` gives the "
                       "Stars back anyway and takes the 2.2 left.")
    assert not api.of("refundStarPayment")
    forced = await ask(admin, "/admin refund stxS1 force")
    assert "15 Stars given back, 2.2 credits taken back" in forced
    assert await bought(shop, 81) == 0


async def test_a_refund_telegram_refuses_takes_nothing_and_an_interrupted_one_is_finished(
        shop, api):
    cy, admin = shop.person(82), shop.person(ADMIN_ID)
    await pay(cy, TEN, 50, "stxT1")
    api.refuse["refundStarPayment"] = (400, "Bad Request: BALANCE_TOO_LOW")
    answer = await ask(admin, "/admin refund stxT1")
    assert answer == "Telegram did not refund payment stxT1: Balance_too_low. No credits " \
        "were taken."
    assert await bought(shop, 82) == 1000
    user = await shop.app.store.find_user("telegram", "82")
    kinds = [e.kind for e in await shop.app.store.ledger(user.id) if e.charge_id == "stxT1"]
    assert kinds == ["purchase", "payment_refund", "payment_refund_undone"]

    # A refund cut off after the credits were taken and Telegram had given the Stars back
    # (the bot died before it wrote that down): asked again, it is finished, taking nothing
    # twice.
    payment = await shop.app.store.get_payment("stxT1")
    await shop.app.store.begin_refund(payment, 1000, "telegram:1")
    api.refunded.add("stxT1")
    assert "50 Stars given back, 10 credits taken back" in await ask(admin,
                                                                     "/admin refund stxT1")
    assert await bought(shop, 82) == 0
    assert (await shop.app.store.get_payment("stxT1")).refund_state == "done"


async def test_paysupport_terms_and_buy_where_nothing_is_sold(shop, tg_plain):
    assert await ask(shop.person(90), "/paysupport") == "Write to @operator about payments."
    assert "Unspent bought credits are refunded on request" in await ask(shop.person(90),
                                                                         "/terms")
    plain = tg_plain.person(91)
    assert await ask(plain, "/buy") == "Credits are not sold here."
    assert "quote the payment id" in await ask(plain, "/paysupport")
    assert "More credits" not in await ask(plain, "/quota")
    menu = [cmd["command"] for c in tg_plain.api.of("setMyCommands")
            for cmd in c.fields["commands"]]
    assert "buy" not in menu


@pytest.fixture
async def tg_plain(tmp_path) -> AsyncIterator[Harness]:
    """A second bot, selling nothing, on its own fake Bot API."""
    from tests.adapters.telegram_bot.fake_bot_api import FakeBotApi

    api = FakeBotApi()
    await api.start()
    harness = await start_harness(api, tmp_path / "plain", FakeExecutor())
    yield harness
    await stop_harness(harness)
    await api.close()
