"""Moderation in the core: a refused photo costs nothing and never queues, a video its worker
refused is refunded, every refusal is a row the admins can list, a person refused too often
is paused for the day and the admins told; admins, modes and the forced negative prompt.

The classifier is the tiny stand-in (tests/conftest.py): it refuses mostly red pictures. The
GPU is the scripted fake; tests/engine/test_moderation.py runs the real worker's check."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from adapters.app import App, ModelLoadError
from bot.errors import UserError
from bot.models import EventKind, Person
from engine.spec.moderation import Thresholds
from tests.bot.conftest import END, FAST, Recorder, make_settings, request
from tests.fake_executor import FakeExecutor
from tests.images import make_photo, red_left

RED = red_left(320, 192, 1.0)
BOSS = Person("cli", "boss", name="boss")


class Told(Recorder):
    """The terminal's notifier, able to write to one person (as Telegram and Discord are)."""

    def __init__(self) -> None:
        super().__init__()
        self.told: list[tuple[str, str]] = []
        self.arrived = asyncio.Event()

    async def tell(self, platform_id: str, message: str) -> None:
        self.told.append((platform_id, message))
        self.arrived.set()


@asynccontextmanager
async def bot(tmp_path, **settings: object) -> AsyncIterator[tuple[App, FakeExecutor, Told]]:
    gpu, told = FakeExecutor(), Told()
    app = await App.build(make_settings(tmp_path / "data", I2V_ADMINS="cli:boss", **settings),
                          executor=gpu)
    app.events.register("cli", told)
    await app.start()
    try:
        yield app, gpu, told
    finally:
        await app.close()


async def refused(app: App, user: str = "u1", image: bytes = RED) -> UserError:
    with pytest.raises(UserError) as refusal:
        await app.core.submit(request(user, image=image))
    return refusal.value


async def test_a_refused_photo_costs_nothing_never_queues_and_is_recorded(tmp_path):
    async with bot(tmp_path) as (app, gpu, told):
        error = await refused(app)
        assert error.key == "moderation_refused"
        assert str(error) == "This photo can't be used here. Please send a different one."
        user = await app.store.find_user("cli", "u1")
        assert await app.store.count_jobs() == 0 and gpu.submitted == []
        assert (await app.core.quotas.balance(user)).spent == 0
        [row] = await app.store.refusals()
        assert (row.kind, row.label, row.job_id, row.kept_path) == ("photo", "nsfw", None, None)
        assert row.scores["nsfw"] > 0.99 and row.user_key == "cli:u1"
        assert row.photo_sha256 == hashlib.sha256(RED).hexdigest()
        assert not (tmp_path / "data" / "moderation").exists()  # only its hash is kept
        # Others' photos, and this person's next one, go through and are made.
        job = await app.core.submit(request("u1"))
        assert (await told.wait_for(job.id, END)).kind is EventKind.DONE
        assert gpu.specs[job.id].moderation == Thresholds()  # its video is checked too


async def test_refused_photos_are_kept_only_where_the_operator_asks(tmp_path):
    async with bot(tmp_path, I2V_MODERATION_KEEP=True) as (app, _, _):
        await refused(app)
        [row] = await app.store.refusals()
        assert row.kept_path is not None and row.kept_path.read_bytes() == RED
        assert row.kept_path.parent == tmp_path / "data" / "moderation"


async def test_a_video_its_worker_refused_is_not_sent_and_gives_the_credits_back(tmp_path):
    async with bot(tmp_path) as (app, gpu, told):
        gpu.script("beach", nsfw=0.97)
        photo = make_photo(160, 128)
        job = await app.core.submit(request("u1", caption=f"a beach {FAST}", image=photo))
        end = await told.wait_for(job.id, END)
        assert end.kind is EventKind.FAILED and end.result is None
        assert end.reason.key == "moderation_refused_video"
        assert await app.store.job_ledger_sum(job.id) == 0
        [row] = await app.store.refusals()
        assert (row.kind, row.job_id, row.scores["nsfw"]) == ("video", job.id, 0.97)
        assert row.photo_sha256 == hashlib.sha256(photo).hexdigest()


async def test_admins_are_checked_unless_the_operator_exempts_them(tmp_path):
    async with bot(tmp_path) as (app, _, _):
        assert (await refused(app, "boss")).key == "moderation_refused"
    async with bot(tmp_path / "exempt", I2V_MODERATION_ADMINS=False) as (app, gpu, told):
        job = await app.core.submit(request("boss", image=RED))
        assert (await told.wait_for(job.id, END)).kind is EventKind.DONE
        assert gpu.specs[job.id].moderation is None  # nor is the admin's video checked
        assert (await refused(app, "u1")).key == "moderation_refused"  # everyone else is


@pytest.mark.parametrize("mode", ["off", "photos"])
async def test_what_each_mode_checks(tmp_path, mode):
    async with bot(tmp_path, I2V_MODERATION=mode) as (app, gpu, told):
        gpu.script("beach", nsfw=0.97)
        if mode == "off":  # nothing: the red photo is animated as before
            job = await app.core.submit(request("u1", image=RED, caption=f"a beach {FAST}"))
        else:
            assert (await refused(app)).key == "moderation_refused"
            job = await app.core.submit(request("u1", caption=f"a beach {FAST}"))
        assert (await told.wait_for(job.id, END)).kind is EventKind.DONE  # video unchecked
        assert gpu.specs[job.id].moderation is None
        assert len(await app.store.refusals()) == (mode == "photos")


async def test_a_person_refused_n_times_is_paused_for_the_day_and_the_admins_told(tmp_path):
    async with bot(tmp_path, I2V_MODERATION_DAILY_LIMIT=2) as (app, gpu, told):
        await refused(app)
        assert told.told == []
        await refused(app)
        await asyncio.wait_for(told.arrived.wait(), 10)
        [(admin, message)] = told.told
        assert admin == "boss" and "u1 (cli:u1) was refused 2 times today" in message
        assert "/admin moderation cli:u1 lift" in message
        paused = await refused(app, image=make_photo(160, 128))  # even a fine photo
        assert paused.key == "moderation_paused" and "tomorrow" in str(paused)
        assert len(await app.store.refusals()) == 2 and gpu.submitted == []
        assert "people paused: 1" in await app.admin.run(BOSS, "stats", [])
        # An admin lifts the pause ...
        assert "may send photos again today (2 refusals set aside)" in await app.admin.run(
            BOSS, "moderation", ["u1", "lift"])
        job = await app.core.submit(request("u1"))
        assert (await told.wait_for(job.id, END)).kind is EventKind.DONE
        # ... or the day ends: a new pause, then the next day's reset.
        await refused(app)
        await refused(app)
        assert (await refused(app, image=make_photo(160, 128))).key == "moderation_paused"
        clock = app.core.quotas.clock
        app.core.quotas.clock = lambda: clock() + 86400
        job = await app.core.submit(request("u1"))
        assert (await told.wait_for(job.id, END)).kind is EventKind.DONE
        assert len(told.told) == 2  # once a pause


async def test_admin_moderation_lists_refusals_and_stats_counts_them(tmp_path):
    async with bot(tmp_path, I2V_MODERATION_DAILY_LIMIT=0) as (app, gpu, told):
        await refused(app, "u1")
        gpu.script("beach", nsfw=0.97)
        job = await app.core.submit(request("u2", caption=f"a beach {FAST}"))
        await told.wait_for(job.id, END)
        listing = await app.admin.run(BOSS, "moderation", [])
        header, video, photo = listing.splitlines()
        assert "photos+videos, refusing at nsfw ≥ 0.5; nobody is paused" in header
        assert f"cli:u2 video nsfw 0.97 job {job.id} sha256 " in video
        assert "cli:u1 photo nsfw 1.00 sha256 " + hashlib.sha256(RED).hexdigest()[:16] in photo
        assert listing.count("UTC") == 2
        theirs = await app.admin.run(BOSS, "moderation", ["u1"])
        assert "cli:u1" in theirs and "cli:u2" not in theirs
        stats = await app.admin.run(BOSS, "stats", [])
        assert "Moderation: 2 refused today (1 photos, 1 videos); people paused: 0" in stats
        with pytest.raises(UserError):  # admins only, as every verb
            await app.admin.run(Person("cli", "u1"), "moderation", [])
    async with bot(tmp_path / "off", I2V_MODERATION="off") as (app, _, _):
        assert "Moderation: off" in await app.admin.run(BOSS, "stats", [])


async def test_the_operators_negative_prompt_is_in_every_job_once(tmp_path):
    async with bot(tmp_path, I2V_FORCED_NEGATIVE="nsfw, nude") as (app, _, told):
        plain = await app.core.submit(request("u1"))
        own = await app.core.submit(request("u1", caption=f"waves --neg blurry {FAST}"))
        assert plain.params.negative_prompt == "nsfw, nude"
        assert own.params.negative_prompt == "nsfw, nude, blurry"
        await told.wait_for(own.id, END)
        await app.core.delivered(own.id)
        longer = await app.core.extend(Person("cli", "u1"), own.id)
        assert longer.params.negative_prompt == "nsfw, nude, blurry"


async def test_a_classifier_that_cannot_load_stops_the_start_with_what_to_set(tmp_path):
    settings = make_settings(tmp_path / "data", I2V_MODERATION_MODEL=str(tmp_path / "gone"))
    app = await App.build(settings, executor=FakeExecutor())
    try:
        with pytest.raises(ModelLoadError, match="does not exist: check I2V_MODERATION_MODEL"):
            await app.start()
    finally:
        await app.close()
    off = make_settings(tmp_path / "off", I2V_MODERATION_MODEL=str(tmp_path / "gone"),
                        I2V_MODERATION="off")
    app = await App.build(off, executor=FakeExecutor())
    try:
        await app.start()  # nothing to load when nothing is checked
    finally:
        await app.close()
