"""/animate end to end: the real discord.py client, a fake Discord, the tiny engine."""

from __future__ import annotations

from engine.spec.cards import preset_names
from tests.adapters.discord_bot.conftest import (
    CHANNEL,
    MIB,
    USER,
    animate_data,
    interaction,
    running_bot,
    slash,
)
from tests.adapters.discord_bot.fake_discord import APP_ID, DM_CHANNEL
from tests.adapters.discord_bot.helpers import (
    check_video,
    custom_ids,
    edits,
    ephemeral_text,
    followup,
    send,
)
from tests.bot.conftest import FAST
from tests.images import make_photo


def photo(fake, name: str = "cat.jpg"):
    return fake.add_attachment(name, make_photo(160, 128), "image/jpeg")


async def test_animate_is_deferred_shows_progress_and_answers_with_the_mp4(bot, fake,
                                                                          tmp_path):
    payload = interaction(2, animate_data(photo(fake), f"a cat turning its head {FAST}",
                                          seed=7, preset="preview"))
    callback = await send(fake, payload)
    assert callback.json["type"] == 5  # deferred: "thinking…"
    video = await followup(fake, payload, files=True)
    check_video(video, tmp_path)
    assert "a cat turning its head" in video.content and "seed 7" in video.content
    assert "preview" in video.content and "8 frames" in video.content
    ids = custom_ids(video)
    assert any(i.startswith("i2v:reroll:") for i in ids) and any(
        i.startswith("i2v:better:") for i in ids)
    shown = edits(fake, payload)
    assert any("Queued" in text for text in shown), shown
    assert any("step" in text and "▰" in text for text in shown), shown
    assert "Done" in shown[-1]


async def test_the_synced_commands_have_the_attachment_the_presets_and_hidden_admin(bot, fake):
    commands = {c["name"]: c for c in fake.commands["global"]}
    animate = commands["animate"]
    options = {o["name"]: o for o in animate["options"]}
    assert options["image"]["type"] == 11 and options["image"]["required"]
    assert [c["value"] for c in options["preset"]["choices"]] == preset_names()
    assert [c["value"] for c in options["model"]["choices"]] == ["i2vgen-xl", "turbo", "wan"]
    # Wide enough for every model; each job is checked against its own model's range.
    assert (options["frames"]["min_value"], options["frames"]["max_value"]) == (8, 121)
    assert (options["guidance"]["min_value"], options["guidance"]["max_value"]) == (1.0, 20.0)
    assert set(options) >= {"prompt", "seed", "negative", "fps", "steps"}
    admin = commands["admin"]
    assert str(admin["default_member_permissions"]) == "32"  # Manage Server
    assert admin["contexts"] == [0]  # servers only: in a DM nothing would hide it
    assert {o["name"] for o in admin["options"]} == {
        "quota", "allowance", "grant", "reset", "ban", "unban", "role", "allow", "disallow",
        "pause", "resume", "cancel", "refund", "stats", "moderation"}
    assert commands["Animate image"]["type"] == 3
    assert set(commands) >= {"quota", "queue", "cancel", "history", "presets", "help"}
    assert commands["animate"].get("default_member_permissions") is None


async def test_a_guild_sync_happens_once_and_sync_commands_forces_it(tmp_path, fake):
    from adapters.discord_bot import DiscordConfig, sync_commands

    guild = "800000000000000009"
    async with running_bot(tmp_path, fake, DISCORD_GUILD_ID=guild):
        pass
    assert set(fake.commands) == {guild}
    async with running_bot(tmp_path, fake, DISCORD_GUILD_ID=guild) as bot:
        settings = bot.settings
    assert len(fake.matching("PUT", "/commands$")) == 1  # unchanged: not synced again
    assert await sync_commands(DiscordConfig.from_settings(settings), fake.connector()) == 0
    assert len(fake.matching("PUT", f"/guilds/{guild}/commands$")) == 2


async def test_a_rate_limited_follow_up_is_retried_and_the_video_arrives(bot, fake, tmp_path):
    payload = interaction(2, animate_data(photo(fake), f"waves rolling in {FAST}"))
    fake.fail_next("POST", rf"^/webhooks/{APP_ID}/{payload['token']}$")
    await send(fake, payload)
    video = await followup(fake, payload, files=True)
    check_video(video, tmp_path)
    refused = [r for r in fake.requests if r.path.endswith("[refused]")]
    assert len(refused) == 1 and refused[0].files  # the first try carried the file too


async def test_bad_requests_get_clear_private_answers_and_the_next_one_works(bot, fake,
                                                                            tmp_path):
    text_file = fake.add_attachment("notes.txt", b"hello", "text/plain")
    answer = ephemeral_text(await send(fake, interaction(2, animate_data(text_file, "waves"))))
    assert "not an image" in answer

    huge = fake.add_attachment("huge.png", b"x", "image/png", size=40 * MIB)
    answer = ephemeral_text(await send(fake, interaction(2, animate_data(huge, "waves"))))
    assert "40 MiB" in answer and "limit is 25 MiB" in answer
    assert not any(r.path.startswith("/attachments") for r in fake.requests)

    # A bad flag or option is answered at once and privately: no "thinking…" in public,
    # no download of the attachment.
    answer = ephemeral_text(await send(fake, interaction(2, animate_data(
        photo(fake), "waves --frames 999"))))
    assert "frames must be between 8 and 32" in answer
    answer = ephemeral_text(await send(fake, interaction(2, animate_data(
        photo(fake), "waves", model="wan"))))
    assert answer == "The model “wan” is not offered here. Choose one of: i2vgen-xl."
    assert not any(r.path.startswith("/attachments") for r in fake.requests)

    answer = ephemeral_text(await send(fake, interaction(2, slash("admin", [
        {"name": "stats", "type": 1, "options": []}]))))
    assert answer == "This command is for admins."

    payload = interaction(2, animate_data(photo(fake), f"waves rolling in {FAST}"))
    await send(fake, payload)
    check_video(await followup(fake, payload, files=True), tmp_path)


async def test_a_result_after_the_token_expired_is_posted_in_the_channel(bot, fake, tmp_path):
    bot.notifier.token_ttl = 0
    payload = interaction(2, animate_data(photo(fake), f"a dog wagging its tail {FAST}"))
    await send(fake, payload)
    path = f"/channels/{CHANNEL}/messages"
    posted = await fake.wait_for(lambda r: r.path == path and r.files, timeout=60)
    assert posted.content.startswith(f"<@{USER}> your video is ready")
    check_video(posted, tmp_path)
    assert not edits(fake, payload)


async def test_a_late_result_goes_by_direct_message_where_the_bot_may_not_post(bot, fake,
                                                                              tmp_path):
    bot.notifier.token_ttl = 0
    fake.fail_next("POST", f"/channels/{CHANNEL}/messages", status=403,
                   body={"message": "Missing Access", "code": 50001})
    payload = interaction(2, animate_data(photo(fake), f"a dog wagging its tail {FAST}"))
    await send(fake, payload)
    dm = await fake.wait_for(lambda r: r.path == f"/channels/{DM_CHANNEL}/messages"
                             and r.files, timeout=60)
    assert "a dog wagging its tail" in dm.content
    check_video(dm, tmp_path)


async def test_chinese_locales_get_chinese_replies(bot, fake):
    answer = ephemeral_text(await send(fake, interaction(2, slash("quota"), locale="zh-CN")))
    assert "今日剩余点数" in answer
    answer = ephemeral_text(await send(fake, interaction(2, slash("quota"), locale="fr")))
    assert answer.startswith("Credits left today")


async def test_direct_messages_can_be_turned_off(tmp_path, fake):
    async with running_bot(tmp_path, fake, DISCORD_ALLOW_DMS=False):
        assert {tuple(c["contexts"]) for c in fake.commands["global"]} == {(0,)}
        answer = ephemeral_text(await send(fake, interaction(2, slash("help"), guild=False)))
        assert "servers only" in answer
        answer = ephemeral_text(await send(fake, interaction(2, slash("help"))))
        assert "/animate" in answer and "subject + action" in answer
