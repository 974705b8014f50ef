"""A real python-telegram-bot Application polling the fake Bot API; the GPU is the scripted
fake executor (the tiny engine where a test asks for `engine_tg`)."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.app import App
from adapters.telegram_bot import TelegramAdapter, TelegramConfig
from bot.executors.base import Executor
from tests.adapters.telegram_bot.fake_bot_api import TOKEN, Call, FakeBotApi
from tests.bot.conftest import make_settings, tiny_executor
from tests.fake_executor import FakeExecutor
from tests.images import make_photo

FAST = "--size 128x128 --frames 8 --steps 10"
ADMIN_ID = 1
EDIT_INTERVALS = (0.3, 0.9)  # private, group: shorter than in production, for short jobs
GROUP = {"id": -100777, "type": "supergroup", "title": "Friends"}
_query_ids = itertools.count(1)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    yield server
    await server.close()


@dataclass
class Harness:
    api: FakeBotApi
    app: App
    adapter: TelegramAdapter
    gpu: Executor

    def person(self, uid: int, lang: str = "en", username: str | None = None,
               chat: dict[str, Any] | None = None) -> Person:
        return Person(self.api, uid, lang, username, chat)


async def start_harness(api: FakeBotApi, data_dir, gpu: Executor, *,
                        edit_intervals: tuple[float, float] = EDIT_INTERVALS,
                        **settings: Any) -> Harness:
    values = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url,
              "TELEGRAM_API_FILE_URL": api.file_url, "I2V_ADMINS": f"telegram:{ADMIN_ID}",
              **settings}
    settings_ = make_settings(data_dir, **values)
    app = await App.build(settings_, executor=gpu)
    adapter = TelegramAdapter(TelegramConfig.from_settings(settings_), app.core, app.admin)
    app.payments.connect("telegram", adapter)  # as serve.py does
    adapter.poll_timeout = 1
    adapter.edit_intervals = edit_intervals
    app.events.register("telegram", adapter)
    await app.start()
    try:
        await adapter.start()
    except BaseException:
        await app.close()
        raise
    return Harness(api, app, adapter, gpu)


async def stop_harness(harness: Harness) -> None:
    await harness.adapter.stop()
    await harness.app.close()


@pytest.fixture
async def tg(api, tmp_path) -> AsyncIterator[Harness]:
    harness = await start_harness(api, tmp_path / "data", FakeExecutor())
    yield harness
    await stop_harness(harness)


@pytest.fixture
async def engine_tg(api, tmp_path, tiny_engine, tiny_classifier,
                    tiny_translator) -> AsyncIterator[Harness]:
    """The tiny engine, moderation classifier and translator, as a worker runs them."""
    harness = await start_harness(api, tmp_path / "data",
                                  tiny_executor(tiny_engine, tiny_classifier, tiny_translator))
    yield harness
    await stop_harness(harness)


class Person:
    """Someone using Telegram: sends photos, files, commands; presses buttons."""

    def __init__(self, api: FakeBotApi, uid: int, lang: str = "en",
                 username: str | None = None, chat: dict[str, Any] | None = None) -> None:
        self.api = api
        self.uid = uid
        self.user = {"id": uid, "is_bot": False, "first_name": f"User{uid}",
                     "language_code": lang, **({"username": username} if username else {})}
        self.chat = chat or {"id": uid, "type": "private", "first_name": f"User{uid}"}

    @property
    def chat_id(self) -> int:
        return self.chat["id"]

    def _message(self, **content: Any) -> dict[str, Any]:
        return {"message_id": self.api.next_message_id(), "date": int(time.time()),
                "chat": self.chat, "from": self.user, **content}

    async def send(self, **content: Any) -> dict[str, Any]:
        message = self._message(**content)
        await self.api.push({"message": message})
        return message

    async def text(self, line: str, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"text": line}
        if line.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(line.split()[0])}]
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        return await self.send(**content)

    async def photo(self, caption: str | None, data: bytes | None = None, *,
                    size: tuple[int, int] = (160, 128), **content: Any) -> dict[str, Any]:
        data = make_photo(*size) if data is None else data
        file_id = self.api.add_file(data)
        sizes = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": size[0],
                  "height": size[1], "file_size": len(data)}]
        if caption is not None:
            content["caption"] = caption
        return await self.send(photo=sizes, **content)

    async def document(self, caption: str | None, data: bytes, name: str, mime: str,
                       file_size: int | None = None, **content: Any) -> dict[str, Any]:
        file_id = self.api.add_file(data, name)
        doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
               "mime_type": mime, "file_size": len(data) if file_size is None else file_size}
        if caption is not None:
            content["caption"] = caption
        return await self.send(document=doc, **content)

    async def press(self, message: dict[str, Any], data: str) -> str:
        query_id = str(next(_query_ids))
        await self.api.push({"callback_query": {
            "id": query_id, "from": self.user, "chat_instance": "ci", "data": data,
            "message": message}})
        return query_id

    async def checkout(self, payload: str, amount: int, currency: str = "XTR",
                       timeout: float = 20) -> Call:
        """Press Pay on an invoice: the bot's answer to the pre-checkout query."""
        query_id = await self.api.pre_checkout(self.user, payload, amount, currency)
        return await self.api.wait_call("answerPreCheckoutQuery", timeout,
                                        pre_checkout_query_id=query_id)

    def payment(self, payload: str, amount: int, charge_id: str | None = None
                ) -> dict[str, Any]:
        """The successful_payment update of a payment this person made (push it)."""
        return self.api.successful_payment(self.user, self.chat, payload, amount, charge_id)

    async def answer(self, query_id: str, timeout: float = 20) -> Call:
        return await self.api.wait_call("answerCallbackQuery", timeout,
                                        callback_query_id=query_id)

    def replies(self) -> list[str]:
        """Every text the bot sent or edited into this chat, in order (a status message's
        caption, once a preview made it a photo, included)."""
        return [text for c in self.api.calls if c.fields.get("chat_id") == self.chat_id
                and (text := shown_text(c)) is not None]

    def previews(self) -> list[Call]:
        """The previews that reached this chat (its status message's photo, each time)."""
        return [c for c in self.api.of("editMessageMedia", chat_id=self.chat_id)
                if c.result["ok"]]

    async def wait_text(self, words: str, timeout: float = 30) -> str:
        def found() -> str | None:
            return next((t for t in self.replies() if words.lower() in t.lower()), None)

        return await self.api.wait_for(found, timeout)

    def videos(self) -> list[Call]:
        return [c for c in self.api.of("sendVideo", chat_id=self.chat_id) if c.result["ok"]]

    async def wait_video(self, count: int = 1, timeout: float = 60) -> Call:
        """The count-th video that reached this chat."""
        await self.api.wait_for(lambda: len(self.videos()) >= count, timeout)
        return self.videos()[count - 1]


STATUS_EDITS = ("editMessageText", "editMessageCaption", "editMessageMedia")


def status_edits(api: FakeBotApi, chat_id: int) -> list[Call]:
    """Every edit of a message in this chat, in order: its text, caption or photo."""
    return [c for c in api.calls if c.method in STATUS_EDITS
            and c.fields.get("chat_id") == chat_id]


def shown_text(call: Call) -> str | None:
    """The text a call puts into a chat: a message's, or a caption edited in with or
    without a new photo."""
    if call.method in ("sendMessage", "editMessageText"):
        return call.fields.get("text")
    if call.method == "editMessageCaption":
        return call.fields.get("caption")
    if call.method == "editMessageMedia":
        return call.fields["media"].get("caption")
    return None


async def ask(person: Person, line: str, reply_to: dict[str, Any] | None = None,
              timeout: float = 20) -> str:
    """Send a command and return the bot's next message in that chat (edits of status
    messages are not answers)."""

    def sent() -> list[str]:
        return [c.fields["text"] for c in person.api.of("sendMessage", chat_id=person.chat_id)]

    before = len(sent())
    await person.text(line, reply_to=reply_to)
    await person.api.wait_for(lambda: len(sent()) > before, timeout)
    return sent()[before]
