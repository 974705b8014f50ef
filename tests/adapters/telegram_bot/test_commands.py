"""The commands a person sees, and every admin verb: done for an admin, refused otherwise."""

from __future__ import annotations

from bot.models import JobStatus, Role
from tests.adapters.telegram_bot.conftest import ADMIN_ID, FAST, GROUP, ask


async def test_the_commands_of_a_person(tg):
    ann = tg.person(60)
    assert "Send me a photo" in await ask(ann, "/start")
    help_ = await ask(ann, "/help")
    assert "subject + action" in help_ and "--seed" in help_ and "preview" in help_
    assert "/admin" not in help_
    assert "standard" in await ask(ann, "/presets")
    assert "now high" in await ask(ann, "/preset high")
    assert "Your default preset: high" in await ask(ann, "/preset")
    assert "Unknown preset 'ultra'" in await ask(ann, "/preset ultra")
    assert "of 100" in await ask(ann, "/quota")
    assert "empty" in await ask(ann, "/queue")
    assert "no videos yet" in await ask(ann, "/history")
    assert "no video waiting" in await ask(ann, "/cancel")

    await tg.app.lifecycle.set_paused(True)
    await ann.photo(f"a horse running --seed 99 {FAST}")
    await ann.wait_text("Queued")
    assert "Yours:" in await ask(ann, "/queue")
    history = await ask(ann, "/history")
    assert "seed 99" in history and "high" in history and "queued" in history
    user = await tg.app.store.find_user("telegram", "60")
    job_id = (await tg.app.store.user_jobs(user.id, 1))[0].id
    assert "cancelled" in await ask(ann, f"/cancel {job_id}")
    assert "No job nope" in await ask(ann, "/cancel nope")

    li = tg.person(61, lang="zh")
    assert "提示词写法" in await ask(li, "/help")
    assert "队列为空" in await ask(li, "/queue")
    admin = tg.person(ADMIN_ID)
    assert "/admin quota USER" in await ask(admin, "/help")


async def test_every_admin_verb_works_for_an_admin_and_is_refused_for_others(tg):
    admin, target, mallory = tg.person(ADMIN_ID), tg.person(62, username="target"), \
        tg.person(63)
    await ask(target, "/start")
    await ask(mallory, "/start")
    await tg.app.lifecycle.set_paused(True)
    await target.photo(f"a kite flying {FAST}")
    await target.wait_text("Queued")
    user = await tg.app.store.find_user("telegram", "62")
    job = (await tg.app.store.user_jobs(user.id, 1))[0]

    verbs = [
        ("quota @target", "@target (telegram:62)"),
        ("allowance 62 5", "daily allowance 5"),
        ("grant @target 2", "2 credits added"),
        ("reset @target", "usage reset"),
        ("role 62 trusted", "is now trusted"),
        ("ban @target", "is banned (1 of their jobs cancelled)"),
        ("unban 62", "no longer banned"),
        ("allow 62", "added to the allow-list"),
        ("disallow chat:-100777", "removed from the allow-list"),
        ("pause", "Queue paused"),
        ("resume", "Queue resumed"),
        ("cancel " + job.id, f"Job {job.id}: cancelled"),
        ("stats", "Today:"),
        ("moderation", "Moderation: photos+videos"),
    ]
    for line, words in verbs:
        refused = await ask(mallory, f"/admin {line}")
        assert refused == "This command is for admins.", (line, refused)
        if line.startswith("cancel"):  # the ban above already cancelled it: queue another
            await tg.app.lifecycle.set_paused(True)
            await target.photo(f"a kite flying {FAST}")
            await tg.api.wait_for(lambda: len([t for t in target.replies()
                                               if "Queued" in t]) >= 2, 20)
            job = (await tg.app.store.user_jobs(user.id, 1))[0]
            line, words = "cancel " + job.id, f"Job {job.id}: cancelled"
        answer = await ask(admin, f"/admin {line}")
        assert words in answer, (line, answer)

    user = await tg.app.store.find_user("telegram", "62")
    assert user.role is Role.TRUSTED and not user.banned and user.daily_credits == 5
    assert (await tg.app.store.get_job(job.id)).status is JobStatus.CANCELLED
    assert "Admin commands:" in await ask(admin, "/admin")
    assert "This command is for admins." in await ask(mallory, "/admin")

    # In a group, the user is named by replying to their message.
    admin_in_group, target_in_group = tg.person(ADMIN_ID, chat=GROUP), \
        tg.person(62, username="target", chat=GROUP)
    said = await target_in_group.text("hello")
    assert "@target (telegram:62) is banned" in await ask(admin_in_group, "/admin ban",
                                                           reply_to=said)
    assert "is no longer banned" in await ask(admin_in_group, "/admin unban", reply_to=said)
    assert "is now trusted" in await ask(admin_in_group, "/admin role trusted",
                                         reply_to=said)
    assert "admins are the people listed in I2V_ADMINS" in await ask(
        admin_in_group, "/admin role admin", reply_to=said)
