"""Credits under concurrency, refunds, restarts, fairness and the daily reset."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from adapters.app import App
from bot.errors import UserError
from bot.models import EventKind, JobStatus, Person, Role
from bot.quotas import Quotas, credits, job_cost, preset_costs
from engine.spec.cards import card
from engine.spec.params import GenParams
from tests.bot.conftest import END, FAST, Recorder, make_settings, request
from tests.fake_executor import FakeExecutor


def test_costs_follow_the_work_and_standard_costs_one():
    costs = preset_costs("i2vgen-xl")
    assert costs["standard"] == 100
    assert costs["preview"] == 30  # half the frames, 30 of 50 steps
    assert costs["high"] == 540  # 2.25x pixels, 1.5x frames, 1.6x steps
    assert job_cost(GenParams.from_preset("standard", "x", width=128, height=128)) == 7
    assert credits(540) == "5.4" and credits(100) == "1" and credits(None) == "∞"


async def _ledger_matches_balances(app: App) -> None:
    since = app.core.quotas.period_start()
    for user in await app.store.all_users():
        balance = await app.core.quotas.balance(user)
        if balance.allowance is None:
            continue
        entries = await app.store.ledger(user.id)
        today = sum(e.delta for e in entries if e.pool == "daily" and e.at >= since)
        assert balance.left == balance.allowance + today
        assert balance.bought == sum(e.delta for e in entries if e.pool == "bought")


async def test_fifty_simultaneous_submissions_with_three_credits_accept_three(
        tmp_path, tiny_engine):
    settings = make_settings(tmp_path / "data", I2V_DAILY_CREDITS=3, I2V_MAX_JOBS_PER_USER=100)
    app = await App.build(settings, executor=FakeExecutor())
    await app.lifecycle.set_paused(True)  # nothing finishes while they race
    try:
        caption = "waves --preset standard"  # 1 credit each, whatever the photo's shape
        results = await asyncio.gather(*(app.core.submit(request("greedy", caption=caption))
                                         for _ in range(50)), return_exceptions=True)
        accepted = [r for r in results if not isinstance(r, Exception)]
        refused = [r for r in results if isinstance(r, UserError)]
        assert len(accepted) == 3 and len(refused) == 47
        assert {e.key for e in refused} == {"quota_exceeded"}
        assert "you have 0 left today" in str(refused[0])
        user = await app.store.find_user("cli", "greedy")
        assert (await app.core.quotas.balance(user)).left == 0
        assert await app.store.count_active(user.id) == 3 == app.lifecycle.active(user.id)
        await _ledger_matches_balances(app)
    finally:
        await app.close()


async def test_a_failing_job_gives_its_credits_back(engine_app, recorder):
    app = engine_app
    job = await app.core.submit(request())
    user = await app.store.find_user("cli", "u1")
    before = (await app.core.quotas.balance(user)).left
    await app.lifecycle.set_paused(True)
    second = await app.core.submit(request())
    second.input_path.unlink()  # the photo vanished from disk before the job ran
    await app.lifecycle.set_paused(False)
    await recorder.wait_for(job.id, END)
    end = await recorder.wait_for(second.id, END)
    assert end.kind is EventKind.FAILED and end.reason.key == "input_missing"
    after = (await app.core.quotas.balance(user)).left
    assert after == before  # the first job kept its cost, the failed one gave it back
    kinds = [entry.kind for entry in await app.store.ledger(user.id)]
    assert kinds == ["reserve", "reserve", "refund"]
    await _ledger_matches_balances(app)


async def test_a_restart_leaves_no_credit_held_by_a_dead_job(settings):
    app = await App.build(settings, executor=FakeExecutor())
    await app.lifecycle.set_paused(True)
    job = await app.core.submit(request())
    # A crash between marking the job failed and refunding it: credit held by a dead job.
    await app.store.update_job(job.id, status=JobStatus.FAILED)
    assert await app.store.job_ledger_sum(job.id) == -job.cost
    await app.close()

    app = await App.build(settings, executor=FakeExecutor())
    app.events.register("cli", Recorder())
    await app.start()
    try:
        assert await app.store.job_ledger_sum(job.id) == 0
        await _ledger_matches_balances(app)
    finally:
        await app.close()


async def test_users_are_served_in_turn(app, recorder):
    await app.lifecycle.set_paused(True)
    burst = [await app.core.submit(request("alice")) for _ in range(5)]
    single = await app.core.submit(request("bob"))
    await app.lifecycle.set_paused(False)
    for job in [*burst, single]:
        await recorder.wait_for(job.id, END)
    order = recorder.started_order()
    assert order[0] == burst[0].id and order[1] == single.id


async def test_trusted_users_go_first(app, recorder):
    await app.lifecycle.set_paused(True)
    plain = await app.core.submit(request("plain"))
    vip_user = await app.store.find_user("cli", "plain")
    assert vip_user.role is Role.USER
    vip = await app.core.user(Person("cli", "vip"))
    await app.core.set_role(vip, Role.TRUSTED)
    trusted = await app.core.submit(request("vip"))
    await app.lifecycle.set_paused(False)
    await recorder.wait_for(plain.id, END)
    await recorder.wait_for(trusted.id, END)
    assert recorder.started_order()[:2] == [trusted.id, plain.id]


async def test_limits_per_user_and_for_the_whole_queue(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_MAX_JOBS_PER_USER=2, I2V_MAX_QUEUE=3)
    app = await App.build(settings, executor=FakeExecutor())
    await app.lifecycle.set_paused(True)
    try:
        for _ in range(2):
            await app.core.submit(request("a"))
        with pytest.raises(UserError, match="already have 2 videos waiting") as err:
            await app.core.submit(request("a"))
        assert err.value.key == "too_many_jobs"
        await app.core.submit(request("b"))
        with pytest.raises(UserError, match="busy") as err:
            await app.core.submit(request("c"))
        assert err.value.key == "queue_full"
    finally:
        await app.close()


async def test_bans_allow_list_and_block_list(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_ALLOWLIST_MODE=True,
                             I2V_BLOCKED_WORDS="gore,violence", I2V_ADMINS="cli:boss")
    app = await App.build(settings, executor=FakeExecutor())
    await app.lifecycle.set_paused(True)
    try:
        with pytest.raises(UserError, match="private bot"):
            await app.core.submit(request("stranger"))
        boss = Person("cli", "boss")
        assert "added to the allow-list" in await app.admin.run(boss, "allow", ["stranger"])
        await app.core.submit(request("stranger"))
        with pytest.raises(UserError) as err:
            await app.core.submit(request("stranger", caption=f"a Gore scene {FAST}"))
        assert err.value.key == "blocked_prompt" and "gore" not in str(err.value).lower()
        assert "is banned (1 of their jobs cancelled)" in await app.admin.run(
            boss, "ban", ["stranger"])
        with pytest.raises(UserError, match="cannot use this bot"):
            await app.core.submit(request("stranger"))
        with pytest.raises(UserError, match="for admins"):
            await app.admin.run(Person("cli", "stranger"), "unban", ["stranger"])
    finally:
        await app.close()


async def test_admin_verbs_change_quotas_and_the_ledger_explains_them(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_DAILY_CREDITS=2, I2V_ADMINS="cli:boss")
    app = await App.build(settings, executor=FakeExecutor())
    await app.lifecycle.set_paused(True)
    boss = Person("cli", "boss")
    try:
        done = await app.core.submit(request("ann", caption="waves --preset standard"))
        await app.store.update_job(done.id, status=JobStatus.DONE)  # as if it had run
        await app.core.submit(request("ann", caption="waves --preset preview"))
        await app.store.update_user((await app.store.find_user("cli", "ann")).id,
                                    username="ann")
        assert "0.7 of 2 credits left" in await app.admin.run(boss, "quota", ["@ann"])
        await app.admin.run(boss, "grant", ["3"], replied=Person("cli", "ann"))
        assert "3.7 of 2 credits left" in await app.admin.run(boss, "quota", ["ann"])
        # A reset gives back what was spent, not what the waiting job still holds.
        await app.admin.run(boss, "reset", [], replied=Person("cli", "ann"))
        assert "4.7 of 2 credits left" in await app.admin.run(boss, "quota", ["ann"])
        await app.admin.run(boss, "allowance", ["ann", "10"])
        assert "12.7 of 10 credits left" in await app.admin.run(boss, "quota", ["ann"])
        assert "now trusted" in await app.admin.run(boss, "role", ["ann", "trusted"])
        with pytest.raises(UserError, match="admins are the people listed in I2V_ADMINS"):
            await app.admin.run(boss, "role", ["ann", "admin"])
        stats = await app.admin.run(boss, "stats", [])
        assert "1 queued" in stats and "1 done" in stats and "@ann (2)" in stats
        with pytest.raises(UserError, match="No user @nobody"):
            await app.admin.run(boss, "quota", ["@nobody"])
        await _ledger_matches_balances(app)
    finally:
        await app.close()


async def test_the_allowance_resets_at_the_set_hour(tmp_path):
    from bot.store import Store

    now = [datetime(2026, 5, 1, 5, 30, tzinfo=UTC).timestamp()]
    store = await Store.open(tmp_path / "q.sqlite3")
    quotas = Quotas(store, daily_credits=2, trusted_daily_credits=5, reset_hour_utc=6,
                    clock=lambda: now[0])
    try:
        user = await store.upsert_user(Person("cli", "ann"))
        # The ledger's own timestamps come from the real clock: put rows at our fake times.
        await quotas.reserve(user, None, 150)
        await store.db.execute("UPDATE ledger SET at = ?", (now[0],))
        assert (await quotas.balance(user)).left == 50
        with pytest.raises(UserError, match="wait about 1 h for the reset"):
            await quotas.reserve(user, None, 100)
        now[0] += 3600  # 06:30, after the reset hour
        assert (await quotas.balance(user)).left == 200
    finally:
        await store.close()


async def test_a_job_cancelled_after_the_reset_hour_gives_nothing_to_the_new_day(tmp_path):
    from bot.store import Store

    now = [datetime(2026, 5, 1, 23, 59, tzinfo=UTC).timestamp()]
    store = await Store.open(tmp_path / "q.sqlite3")
    quotas = Quotas(store, daily_credits=10, trusted_daily_credits=10, clock=lambda: now[0])
    try:
        user = await store.upsert_user(Person("cli", "night"))
        job_ids = []
        for n in range(10):
            job_ids.append(f"job{n:03d}")
            await store.db.execute(
                "INSERT INTO jobs (id, user_id, platform, chat, status, caption, params, seed,"
                " input_path, created_at, cost) VALUES (?, ?, 'cli',"
                " '{\"platform\": \"cli\", \"chat_id\": \"x\"}', 'cancelled', 'x',"
                " '{\"prompt\": \"x\", \"seed\": 1}', 1, 'x', ?, 100)",
                (job_ids[-1], user.id, now[0]))
            await quotas.reserve(user, job_ids[-1], 100)
        await store.db.execute("UPDATE ledger SET at = ?", (now[0],))
        assert (await quotas.balance(user)).left == 0
        now[0] += 120  # 00:01, a new day
        for job_id in job_ids:
            await quotas.refund(await store.get_job(job_id), "cancelled")
        assert (await quotas.balance(user)).left == 1000  # the allowance, not twice it
    finally:
        await store.close()


async def test_someone_removed_from_the_admins_loses_the_role(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_ADMINS="cli:boss")
    app = await App.build(settings, executor=FakeExecutor())
    assert (await app.core.user(Person("cli", "boss"))).role is Role.ADMIN
    await app.close()
    app = await App.build(make_settings(tmp_path / "data"), executor=FakeExecutor())
    try:
        assert (await app.core.user(Person("cli", "boss"))).role is Role.USER
        with pytest.raises(UserError, match="for admins"):
            await app.admin.run(Person("cli", "boss"), "stats", [])
    finally:
        await app.close()


def test_blocked_words_are_whole_words_in_spaced_scripts():
    from bot.service import blocked

    assert blocked("A GORE scene", ("gore",))
    assert not blocked("a horse walking on the grass", ("ass",))
    assert blocked("一个暴力的场景", ("暴力",))


async def test_an_id_typed_in_a_reply_names_the_user(tmp_path):
    app = await App.build(make_settings(tmp_path / "data", I2V_ADMINS="cli:boss"),
                          executor=FakeExecutor())
    try:
        await app.core.user(Person("cli", "12345"))
        replied = Person("cli", "bystander")
        boss = Person("cli", "boss")
        assert "(cli:12345) is banned" in await app.admin.run(boss, "ban", ["12345"], replied)
        assert not (await app.core.user(replied)).banned
        # ...while for a verb with a value, the reply names the user and the number is it.
        assert "2 credits added" in await app.admin.run(boss, "grant", ["2"], replied)
    finally:
        await app.close()


def test_the_speed_mode_costs_a_quarter():
    from bot.captions import parse_caption

    parsed = parse_caption("waves --fast")
    assert parsed.fast and parsed.prompt == "waves"
    fast = GenParams.from_preset("standard", "x", fast=True)
    assert job_cost(fast) == 25 and job_cost(GenParams.from_preset("preview", "x",
                                                                   fast=True)) == 8


async def test_bought_credits_survive_the_daily_reset_and_are_spent_after_the_allowance(
        tmp_path):
    from bot.payments import Charge, Pack, Payments
    from bot.store import Store

    now = [datetime(2026, 5, 1, 5, 30, tzinfo=UTC).timestamp()]
    store = await Store.open(tmp_path / "q.sqlite3")
    quotas = Quotas(store, daily_credits=2, trusted_daily_credits=5, reset_hour_utc=6,
                    clock=lambda: now[0])
    payments = Payments(store, quotas, [Pack(500, 50)], clock=lambda: now[0])
    try:
        user = await store.upsert_user(Person("telegram", "ann"))
        await payments.credit(user, Charge("stx1", "XTR", 50, Pack(500, 50).payload))

        async def spend(cost: int) -> tuple[int | None, int]:
            (last,) = await (await store.db.execute("SELECT max(id) FROM ledger")).fetchone()
            await quotas.reserve(user, None, cost)
            # The ledger's own timestamps come from the real clock: put its rows at our time.
            await store.db.execute("UPDATE ledger SET at = ? WHERE id > ?", (now[0], last))
            balance = await quotas.balance(user)
            return balance.left, balance.bought

        assert await spend(150) == (50, 500)  # today's credits first
        assert await spend(100) == (0, 450)  # the last 0.5 of today's, then 0.5 bought
        now[0] += 3600  # 06:30: today's credits are back, the bought ones are all still there
        balance = await quotas.balance(user)
        assert (balance.left, balance.bought, balance.spendable) == (200, 450, 650)
        assert await spend(300) == (0, 350)
        with pytest.raises(UserError, match="needs 4 credits and you have 3.5 left"):
            await quotas.reserve(user, None, 400)
        now[0] += 30 * 86400  # a month later
        assert (await quotas.balance(user)).bought == 350
    finally:
        await store.close()


async def test_a_failed_or_cancelled_job_gives_back_to_the_pool_it_came_from(tmp_path, gpu):
    from bot.payments import Charge, Pack

    settings = make_settings(tmp_path / "data", I2V_DAILY_CREDITS=0.5)
    app = await App.build(settings, executor=gpu)
    recorder = Recorder()
    app.events.register("cli", recorder)
    await app.start()
    try:
        user = await app.core.user(Person("cli", "ann"))
        await app.payments.credit(user, Charge("stx1", "XTR", 50, Pack(1000, 50).payload))
        await app.lifecycle.set_paused(True)
        caption = "waves --preset standard"  # 1 credit: today's 0.5, then 0.5 bought
        job = await app.core.submit(request("ann", caption=caption))
        balance = await app.core.quotas.balance(user)
        assert (balance.left, balance.bought) == (0, 950)
        await app.core.cancel(Person("cli", "ann"), job.id)
        balance = await app.core.quotas.balance(user)
        assert (balance.left, balance.bought) == (50, 1000)

        gpu.script("doomed", fail="nan_frames")
        failing = await app.core.submit(request("ann", caption=f"doomed {caption}"))
        await app.lifecycle.set_paused(False)
        assert (await recorder.wait_for(failing.id, END)).kind is EventKind.FAILED
        balance = await app.core.quotas.balance(user)
        assert (balance.left, balance.bought) == (50, 1000)
        pools = [(e.kind, e.pool, e.delta) for e in await app.store.ledger(user.id)
                 if e.job_id == failing.id]
        assert sorted(pools) == [("refund", "bought", 50), ("refund", "daily", 50),
                                 ("reserve", "bought", -50), ("reserve", "daily", -50)]
        await _ledger_matches_balances(app)
    finally:
        await app.close()


def test_each_speed_mode_and_fastwan_cost_what_their_flops_count():
    # Wan's speed mode at its counted share of a stock Wan video (benchmarks/MODELS.md).
    for preset in ("preview", "standard", "high", "max"):
        stock = GenParams.from_preset(preset, "x", model="wan")
        fast = GenParams.from_preset(preset, "x", model="wan", fast=True)
        assert abs(job_cost(fast) - job_cost(stock) * stock.card.fast_share) <= 1
        assert job_cost(fast) <= job_cost(stock) / 2
    # FastWan's 3 steps at 720p, 121 frames cost far less than Wan's 50 at the same shape,
    # and its FLOPs per pixel-frame-step are priced higher (the decode weighs on 3 steps).
    turbo, wan = preset_costs("turbo"), preset_costs("wan")
    assert turbo["max"] * 5 < wan["max"] and turbo["preview"] < wan["preview"]
    assert card("turbo").cost_factor > card("wan").cost_factor
