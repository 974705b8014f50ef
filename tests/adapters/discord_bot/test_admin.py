"""/admin end to end: every verb works for an admin from I2V_ADMINS and is refused, at run
time, for anyone else (whatever Discord's default permissions showed them)."""

from __future__ import annotations

from bot.models import JobStatus, Person
from tests.adapters.discord_bot.conftest import (
    ADMIN,
    CHANNEL,
    USER,
    admin_data,
    animate_data,
    interaction,
)
from tests.adapters.discord_bot.helpers import ephemeral_text, send
from tests.bot.conftest import FAST
from tests.images import make_photo


async def admin(fake, verb: str, actor: int = ADMIN, **options) -> str:
    payload = interaction(2, admin_data(verb, **options), user=actor, admin_perms=True)
    return ephemeral_text(await send(fake, payload))


async def test_every_admin_verb_works_for_an_admin(bot, fake):
    assert (await admin(fake, "pause")).startswith("Queue paused")
    image = fake.add_attachment("cat.jpg", make_photo(160, 128), "image/jpeg")
    payload = interaction(2, animate_data(image, f"a cat {FAST}"))
    await send(fake, payload)
    await fake.wait_for(lambda r: payload["token"] in r.path and "Queued" in r.content)
    person = Person("discord", str(USER))
    jobs = await bot.app.core.history(person)
    assert [j.status for j in jobs] == [JobStatus.QUEUED]

    label = f"@user{USER} (discord:{USER})"
    assert (await admin(fake, "quota", user=USER)).startswith(f"{label}: role user")
    assert await admin(fake, "allowance", user=USER, credits="5") == \
        f"{label}: daily allowance 5."
    assert await admin(fake, "grant", user=USER, credits=2) == \
        f"{label}: 2 credits added for today."
    assert await admin(fake, "reset", user=USER) == f"{label}: today's usage reset."
    assert await admin(fake, "role", user=USER, role="trusted") == f"{label} is now trusted."
    assert await admin(fake, "allow", user=USER) == f"discord:{USER} added to the allow-list."
    assert await admin(fake, "disallow", channel_id=str(CHANNEL)) == \
        f"chat:{CHANNEL} removed from the allow-list."
    assert await admin(fake, "cancel", job=jobs[0].id) == f"Job {jobs[0].id}: cancelled."
    assert (await admin(fake, "ban", user=USER)).startswith(f"{label} is banned")
    assert (await bot.app.core.user(person)).banned
    assert await admin(fake, "unban", user=USER) == f"{label} is no longer banned."
    assert await admin(fake, "resume") == "Queue resumed."
    assert (await admin(fake, "stats")).startswith("Today: ")
    assert (await admin(fake, "moderation")).startswith("Moderation: photos+videos")
    assert await admin(fake, "moderation", user=USER, lift=True) == \
        f"{label} may send photos again today (0 refusals set aside)."
    assert not bot.app.lifecycle.paused


async def test_every_admin_verb_is_refused_for_anyone_else(bot, fake):
    calls = {"quota": {"user": ADMIN}, "allowance": {"user": ADMIN, "credits": "5"},
             "grant": {"user": USER, "credits": 2}, "reset": {"user": USER},
             "ban": {"user": ADMIN}, "unban": {"user": USER},
             "role": {"user": USER, "role": "trusted"}, "allow": {"user": USER},
             "disallow": {"channel_id": str(CHANNEL)}, "pause": {}, "resume": {},
             "cancel": {"job": "abc"}, "refund": {"charge": "stx1"}, "stats": {},
             "moderation": {"user": USER, "lift": True}}
    for verb, options in calls.items():
        answer = await admin(fake, verb, actor=USER, **options)
        assert answer == "This command is for admins.", verb
    assert not bot.app.lifecycle.paused
    assert not (await bot.app.core.user(Person("discord", str(ADMIN)))).banned


async def test_a_telegram_payment_is_refunded_from_discord(bot, fake):
    """Discord sells nothing; its admins refund what was bought on Telegram, through the
    Telegram side (here the Refunder port's recording stand-in)."""
    from bot.payments import Charge, Pack
    from tests.fake_refunder import FakeRefunder

    refunds = FakeRefunder()
    bot.app.payments.connect("telegram", refunds)
    buyer = await bot.app.core.user(Person("telegram", "70"))
    await bot.app.payments.credit(buyer, Charge("stxD1", "XTR", 50, Pack(1000, 50).payload))
    await bot.app.payments.credit(buyer, Charge("stxD2", "XTR", 50, Pack(1000, 50).payload))
    buyer = await bot.app.store.update_user(buyer.id, daily_credits=0)
    await bot.app.core.quotas.reserve(buyer, None, 1100)  # 11 of the 20 bought are spent
    assert "(9 left): nothing was refunded" in await admin(fake, "refund", charge="stxD1")
    assert refunds.asked == []
    assert await admin(fake, "refund", charge="stxD1", force=True) == \
        "Payment stxD1 of 70 (telegram:70): 50 Stars given back, 9 credits taken back."
    assert refunds.asked == [("70", "stxD1")]
    assert await bot.app.store.bought_total(buyer.id) == 0
