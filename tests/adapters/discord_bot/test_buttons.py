"""The buttons under a video (only for the person who asked) and the "Animate image"
context menu with its prompt modal."""

from __future__ import annotations

from typing import Any

from tests.adapters.discord_bot.conftest import CHANNEL, animate_data, interaction
from tests.adapters.discord_bot.fake_discord import BOT_ID, Recorded, snowflake, user_payload
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


def message(content: str, *, components: list | None = None,
            attachments: list | None = None) -> dict[str, Any]:
    return {"id": str(snowflake()), "channel_id": str(CHANNEL), "type": 0, "content": content,
            "author": user_payload(BOT_ID, "i2vbot", bot=True), "attachments": attachments or [],
            "embeds": [], "mentions": [], "mention_roles": [], "pinned": False,
            "mention_everyone": False, "tts": False, "timestamp": "2025-01-01T00:00:00+00:00",
            "edited_timestamp": None, "flags": 0, "components": components or []}


def press(video: Recorded, action: str, user: int | None = None) -> dict[str, Any]:
    custom_id = next(i for i in custom_ids(video) if i.startswith(f"i2v:{action}:"))
    kwargs = {"user": user} if user is not None else {}
    return interaction(3, {"custom_id": custom_id, "component_type": 2},
                       message=message(video.content, components=video.json["components"]),
                       **kwargs)


async def test_buttons_work_for_the_owner_only(bot, fake, tmp_path):
    image = fake.add_attachment("cat.jpg", make_photo(160, 128), "image/jpeg")
    first = interaction(2, animate_data(image, f"a cat turning {FAST}", seed=7,
                                        preset="preview"))
    await send(fake, first)
    video = await followup(fake, first, files=True)

    answer = ephemeral_text(await send(fake, press(video, "reroll", user=2002)))
    assert answer == "Only the person who asked for this video can use its buttons."

    better = press(video, "better")
    assert (await send(fake, better)).json["type"] == 5
    second = await followup(fake, better, files=True)
    check_video(second, tmp_path)
    assert "preset standard" in second.content and "seed 7" in second.content


async def test_the_cancel_button_stops_a_waiting_job(bot, fake):
    await bot.app.lifecycle.set_paused(True)
    image = fake.add_attachment("cat.jpg", make_photo(160, 128), "image/jpeg")
    payload = interaction(2, animate_data(image, f"a cat turning {FAST}"))
    await send(fake, payload)
    queued = await fake.wait_for(lambda r: payload["token"] in r.path and "Queued" in r.content)
    stranger = press(queued, "cancel", user=2002)
    assert "Only the person" in ephemeral_text(await send(fake, stranger))
    assert "Cancelling" in ephemeral_text(await send(fake, press(queued, "cancel")))
    await fake.wait_for(lambda r: payload["token"] in r.path and "cancelled" in r.content)
    assert "cancelled" in edits(fake, payload)[-1]


async def test_the_context_menu_asks_for_a_prompt_and_animates_the_image(bot, fake,
                                                                         tmp_path):
    image = fake.add_attachment("dog.png", make_photo(128, 160, "PNG"), "image/png")
    target = message("look at my dog", attachments=[image])
    menu = interaction(2, {"id": str(snowflake()), "name": "Animate image", "type": 3,
                           "target_id": target["id"],
                           "resolved": {"messages": {target["id"]: target}}})
    modal = (await send(fake, menu)).json
    assert modal["type"] == 9 and modal["data"]["title"] == "Animate image"

    def fill(component: dict[str, Any]) -> dict[str, Any]:
        if component["type"] == 4:
            return {"type": 4, "custom_id": component["custom_id"],
                    "value": f"a dog wagging its tail {FAST}"}
        out = {"type": component["type"]}
        if "component" in component:
            out["component"] = fill(component["component"])
        if "components" in component:
            out["components"] = [fill(c) for c in component["components"]]
        return out

    submit = interaction(5, {"custom_id": modal["data"]["custom_id"],
                             "components": [fill(c) for c in modal["data"]["components"]]})
    assert (await send(fake, submit)).json["type"] == 5
    video = await followup(fake, submit, files=True)
    check_video(video, tmp_path, size=(128, 128))
    assert "a dog wagging its tail" in video.content

    plain = message("no picture here")
    menu = interaction(2, {"id": str(snowflake()), "name": "Animate image", "type": 3,
                           "target_id": plain["id"],
                           "resolved": {"messages": {plain["id"]: plain}}})
    assert "no image" in ephemeral_text(await send(fake, menu))


async def test_extend_by_button_and_by_command(bot, fake, tmp_path):
    image = fake.add_attachment("cat.jpg", make_photo(160, 128), "image/jpeg")
    first = interaction(2, animate_data(image, f"a cat turning {FAST}"))
    await send(fake, first)
    video = await followup(fake, first, files=True)
    assert any(i.startswith("i2v:extend:") for i in custom_ids(video))
    extend = press(video, "extend")
    assert (await send(fake, extend)).json["type"] == 5
    second = await followup(fake, extend, files=True)
    check_video(second, tmp_path, frames=15)
    assert "extension 1" in second.content
    job_id = next(i for i in custom_ids(second) if i.startswith("i2v:extend:")).split(":")[2]
    command = interaction(2, {"id": str(snowflake()), "name": "extend", "type": 1, "options": [
        {"name": "job", "type": 3, "value": job_id},
        {"name": "prompt", "type": 3, "value": "the cat yawning"}]})
    assert (await send(fake, command)).json["type"] == 5
    third = await followup(fake, command, files=True)
    check_video(third, tmp_path, frames=22)
    assert third.content.startswith("🎬 the cat yawning")
