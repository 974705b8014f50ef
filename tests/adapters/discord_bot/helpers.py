"""Small steps the Discord end-to-end tests share: send an interaction, wait for answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.video import read_video
from tests.adapters.discord_bot.fake_discord import APP_ID, FakeDiscord, Recorded

EPHEMERAL = 64


async def send(fake: FakeDiscord, payload: dict[str, Any]) -> Recorded:
    """Push an INTERACTION_CREATE and return the bot's callback (its first answer)."""
    await fake.dispatch("INTERACTION_CREATE", payload)
    path = f"/interactions/{payload['id']}/{payload['token']}/callback"
    return await fake.wait_for(lambda r: r.method == "POST" and r.path == path, timeout=10)


def ephemeral_text(callback: Recorded) -> str:
    assert callback.json["type"] == 4, callback.json
    data = callback.json["data"]
    assert data["flags"] & EPHEMERAL, data
    return data["content"]


async def followup(fake: FakeDiscord, payload: dict[str, Any], *, files: bool = False,
                   timeout: float = 60) -> Recorded:
    path = f"/webhooks/{APP_ID}/{payload['token']}"
    return await fake.wait_for(lambda r: r.method == "POST" and r.path == path
                               and (bool(r.files) or not files), timeout=timeout)


def edits(fake: FakeDiscord, payload: dict[str, Any]) -> list[str]:
    path = f"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    return [r.content for r in fake.requests if r.method == "PATCH" and r.path == path]


def custom_ids(record: Recorded) -> list[str]:
    return [c["custom_id"] for row in record.json.get("components", [])
            for c in row.get("components", [])]


def check_video(record: Recorded, tmp_path: Path, frames: int = 8,
                size: tuple[int, int] = (128, 128)) -> None:
    (name, data), = record.files.values()
    assert name.endswith(".mp4") and data[4:8] == b"ftyp"
    path = tmp_path / name
    path.write_bytes(data)
    video, _fps = read_video(path)
    assert video.shape[0] == frames and video.shape[1:3] == (size[1], size[0])
