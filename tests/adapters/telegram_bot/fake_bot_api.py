"""A fake Telegram Bot API on 127.0.0.1 for python-telegram-bot to talk to in tests.

It records every request (method, decoded form fields, uploaded files), serves getUpdates
from a queue the test fills, hosts files for getFile and download, and behaves like the real
API where the bot depends on it: message ids grow, an identical edit is refused with 400
"message is not modified", a deleted message cannot be edited, a blocked chat answers 403,
and the next N calls of a method can be answered with 429 retry_after. editMessageMedia
puts a photo into a message (a text message too: its text becomes the caption); after that
the message has a caption to edit (editMessageCaption) and no text (editMessageText is
refused), as on Telegram.

Payments in Telegram Stars: it takes invoices (sendInvoice, currency XTR, exactly one price,
no provider token), answers to pre-checkout queries and refunds (refundStarPayment of a
payment it delivered, once); a test pushes pre_checkout_query and successful_payment
updates. An update counts as confirmed when a getUpdates with a higher offset is processed,
as at Telegram: `hold_confirmation` keeps those requests unanswered (and the update
unconfirmed) so that a test can kill the bot between receiving an update and confirming it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST"
BOT = {"id": 123456, "is_bot": True, "first_name": "I2V", "username": "i2v_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False}


@dataclass
class Call:
    method: str
    fields: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None
    at: float = field(default_factory=time.monotonic)


TEXT_FIELDS = {"text", "caption", "file_id", "callback_query_id", "action", "language_code",
               "title", "description", "payload", "provider_token", "pre_checkout_query_id",
               "error_message", "telegram_payment_charge_id"}


def _decode(name: str, value: str) -> Any:
    """PTB sends every non-string value JSON-encoded inside a form field."""
    if name in TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (path, bytes)
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # what the chat shows
        self.deleted: set[tuple[int, int]] = set()
        self.blocked: set[int] = set()
        self.fail_next: dict[str, int] = {}
        self.refuse: dict[str, tuple[int, str]] = {}  # method -> (status, description), once
        self.held: list[Call] = []  # requests that arrived while their method is held
        self._holds: dict[str, asyncio.Event] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.polls = 0  # getUpdates calls, kept apart: they never stop
        self.deliveries: dict[int, int] = {}  # update id -> how often it was handed out
        self.confirming: list[int] = []  # offsets of getUpdates held by hold_confirmation
        self._confirmers: list[web.Request] = []
        self._confirm_hold: tuple[int, asyncio.Event] | None = None
        self.charges: dict[str, int] = {}  # payments made: charge id -> the payer's id
        self.refunded: set[str] = set()
        self._charge_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    # Lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=200 * 2**20)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # What tests inject

    def add_file(self, data: bytes, name: str = "photo.jpg") -> str:
        file_id = f"file{next(self._file_ids)}"
        self.files[file_id] = (f"files/{file_id}/{name}", data)
        return file_id

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return update

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def hold(self, method: str) -> None:
        """Requests of `method` get no answer until `release(method)`, as a slow upload."""
        self._holds[method] = asyncio.Event()

    def release(self, method: str) -> None:
        self._holds.pop(method).set()

    def hold_confirmation(self, update_id: int) -> None:
        """getUpdates that would confirm `update_id` wait (unprocessed) until released."""
        self._confirm_hold = (update_id, asyncio.Event())

    def confirmers_gone(self) -> bool:
        """Whether every poller held by hold_confirmation has hung up (a killed bot)."""
        return all(r.transport is None or r.transport.is_closing() for r in self._confirmers)

    def release_confirmation(self) -> None:
        if self._confirm_hold is not None:
            self._confirm_hold[1].set()
            self._confirm_hold = None

    async def pre_checkout(self, user: dict[str, Any], payload: str, amount: int,
                           currency: str = "XTR") -> str:
        """The buyer pressed Pay: Telegram asks the bot; returns the query's id."""
        query_id = f"pcq{next(self._query_ids)}"
        await self.push({"pre_checkout_query": {
            "id": query_id, "from": user, "currency": currency, "total_amount": amount,
            "invoice_payload": payload}})
        return query_id

    def successful_payment(self, user: dict[str, Any], chat: dict[str, Any], payload: str,
                           amount: int, charge_id: str | None = None) -> dict[str, Any]:
        """The service message of a payment Telegram took (push it, once or more)."""
        charge_id = charge_id or f"stxCHARGE{next(self._charge_ids)}"
        self.charges[charge_id] = user["id"]
        return {"message": {
            "message_id": self.next_message_id(), "date": int(time.time()), "chat": chat,
            "from": user, "successful_payment": {
                "currency": "XTR", "total_amount": amount, "invoice_payload": payload,
                "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""}}}

    # What tests wait on

    def of(self, method: str, **match: Any) -> list[Call]:
        return [c for c in self.calls if c.method == method
                and all(c.fields.get(k) == v for k, v in match.items())]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 60) -> Any:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        return predicate()

    async def wait_call(self, method: str, timeout: float = 60, count: int = 1,
                        **match: Any) -> Call:
        calls = await self.wait_for(lambda: len(self.of(method, **match)) >= count and
                                    self.of(method, **match), timeout)
        return calls[count - 1]

    # The API

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        fields: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    files[part.name] = bytes(data)  # type: ignore[union-attr,index]
                else:
                    fields[part.name] = _decode(part.name, data.decode())  # type: ignore[union-attr,index]
        elif request.can_read_body:
            form = await request.post()
            fields = {k: _decode(k, v) for k, v in form.items() if isinstance(v, str)}
        call = Call(method, fields, files)
        if method in self._holds:
            held = self._holds[method]
            async with self._changed:
                self.held.append(call)
                self._changed.notify_all()
            await held.wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the sender died: it never arrived
        if method in self.refuse:
            status, description = self.refuse.pop(method)
            response = _error(status, description)
        elif self.fail_next.get(method):
            self.fail_next[method] -= 1
            response = web.json_response({"ok": False, "error_code": 429,
                                          "description": "Too Many Requests: retry after 1",
                                          "parameters": {"retry_after": 1}}, status=429)
        elif method == "getUpdates":
            if not await self._confirmation_allowed(request, fields):
                return web.Response(status=499)  # the poller died waiting: nothing confirmed
            response = await self._get_updates(fields)
        else:
            handler = getattr(self, f"_m_{method}", None)
            response = handler(fields, files) if handler else _ok(True)
        call.result = json.loads(response.text or "null")
        async with self._changed:
            if method != "getUpdates":
                self.calls.append(call)
            self._changed.notify_all()
        return response

    async def _confirmation_allowed(self, request: web.Request, fields: dict[str, Any]) -> bool:
        """Hold a getUpdates that would confirm the held update; False if its sender went."""
        offset = int(fields.get("offset") or 0)
        hold = self._confirm_hold
        if hold is None or offset <= hold[0]:
            return True
        async with self._changed:
            self.confirming.append(offset)
            self._confirmers.append(request)
            self._changed.notify_all()
        await hold[1].wait()
        return not (request.transport is None or request.transport.is_closing())

    async def _get_updates(self, fields: dict[str, Any]) -> web.Response:
        self.polls += 1
        offset = int(fields.get("offset") or 0)
        wait = min(float(fields.get("timeout") or 0), 0.3)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self.updates if u["update_id"] >= offset]

        async with self._changed:
            self.updates = pending()
            try:
                await asyncio.wait_for(self._changed.wait_for(pending), wait)
            except TimeoutError:
                pass
            handed = pending()[:100]
            for update in handed:
                self.deliveries[update["update_id"]] = \
                    self.deliveries.get(update["update_id"], 0) + 1
            return _ok(handed)

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data)
        return web.Response(status=404)

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message_id = self.next_message_id()
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "group"
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                   "from": BOT, **content}
        self.messages[(chat_id, message_id)] = message
        return message

    def _m_getMe(self, fields: dict, files: dict) -> web.Response:
        return _ok(BOT)

    def _m_getFile(self, fields: dict, files: dict) -> web.Response:
        file_id = fields["file_id"]
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        return _ok({"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                    "file_path": path})

    def _m_sendMessage(self, fields: dict, files: dict) -> web.Response:
        chat_id = int(fields["chat_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        content = {"text": fields["text"]}
        if "reply_markup" in fields:
            content["reply_markup"] = fields["reply_markup"]
        return _ok(self._message(chat_id, **content))

    def _m_editMessageText(self, fields: dict, files: dict) -> web.Response:
        chat_id, message_id = int(fields["chat_id"]), int(fields["message_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        message = self.messages.get((chat_id, message_id))
        if message is None or (chat_id, message_id) in self.deleted:
            return _error(400, "Bad Request: message to edit not found")
        if "text" not in message:
            return _error(400, "Bad Request: there is no text in the message to edit")
        markup = fields.get("reply_markup")
        if message.get("text") == fields["text"] and message.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified: specified new message "
                               "content and reply markup are exactly the same as a current "
                               "content and reply markup of the message")
        message["text"] = fields["text"]
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return _ok(message)

    def _editable(self, fields: dict) -> tuple[dict[str, Any] | None, web.Response | None]:
        chat_id, message_id = int(fields["chat_id"]), int(fields["message_id"])
        if chat_id in self.blocked:
            return None, _error(403, "Forbidden: bot was blocked by the user")
        message = self.messages.get((chat_id, message_id))
        if message is None or (chat_id, message_id) in self.deleted:
            return None, _error(400, "Bad Request: message to edit not found")
        return message, None

    @staticmethod
    def _set_markup(message: dict[str, Any], fields: dict) -> None:
        message.pop("reply_markup", None)
        if fields.get("reply_markup"):
            message["reply_markup"] = fields["reply_markup"]

    def _m_editMessageMedia(self, fields: dict, files: dict) -> web.Response:
        message, refused = self._editable(fields)
        if message is None:
            return refused or _error(400, "Bad Request: message to edit not found")
        media = fields["media"]
        name = str(media.get("media", "")).removeprefix("attach://")
        if media.get("type") != "photo" or name not in files:
            return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        message.pop("text", None)
        message["photo"] = [{"file_id": f"photo{len(self.calls)}", "file_unique_id": "p",
                             "width": 1, "height": 1, "file_size": len(files[name])}]
        message["caption"] = media.get("caption", "")
        self._set_markup(message, fields)
        return _ok(message)

    def _m_editMessageCaption(self, fields: dict, files: dict) -> web.Response:
        message, refused = self._editable(fields)
        if message is None:
            return refused or _error(400, "Bad Request: message to edit not found")
        if "text" in message:
            return _error(400, "Bad Request: there is no caption in the message to edit")
        markup = fields.get("reply_markup")
        if message.get("caption") == fields.get("caption") \
                and message.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified: specified new message "
                               "content and reply markup are exactly the same as a current "
                               "content and reply markup of the message")
        message["caption"] = fields.get("caption", "")
        self._set_markup(message, fields)
        return _ok(message)

    def preview_of(self, call: Call) -> bytes:
        """The JPEG an editMessageMedia call uploaded."""
        return call.files[str(call.fields["media"]["media"]).removeprefix("attach://")]

    def _m_sendVideo(self, fields: dict, files: dict) -> web.Response:
        chat_id = int(fields["chat_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        video = {"file_id": f"video{len(self.calls)}", "file_unique_id": "v",
                 "width": int(fields.get("width", 0)), "height": int(fields.get("height", 0)),
                 "duration": int(fields.get("duration", 0)),
                 "file_size": len(self.video_bytes(files))}
        content: dict[str, Any] = {"video": video, "caption": fields.get("caption", "")}
        if "reply_markup" in fields:
            content["reply_markup"] = fields["reply_markup"]
        return _ok(self._message(chat_id, **content))

    def _m_sendInvoice(self, fields: dict, files: dict) -> web.Response:
        chat_id = int(fields["chat_id"])
        prices = fields.get("prices") or []
        if fields.get("currency") == "XTR" and (len(prices) != 1 or fields.get("provider_token")):
            return _error(400, "Bad Request: payments in Telegram Stars need exactly one price "
                               "and no provider token")
        if not 1 <= len(fields.get("title", "")) <= 32 \
                or not 1 <= len(fields.get("description", "")) <= 255:
            return _error(400, "Bad Request: invoice title or description has a wrong length")
        invoice = {"title": fields["title"], "description": fields["description"],
                   "start_parameter": "", "currency": fields["currency"],
                   "total_amount": sum(p["amount"] for p in prices)}
        return _ok(self._message(chat_id, invoice=invoice))

    def _m_answerPreCheckoutQuery(self, fields: dict, files: dict) -> web.Response:
        if not fields.get("ok") and not fields.get("error_message"):
            return _error(400, "Bad Request: error_message is required when ok is False")
        return _ok(True)

    def _m_refundStarPayment(self, fields: dict, files: dict) -> web.Response:
        charge_id = fields["telegram_payment_charge_id"]
        if self.charges.get(charge_id) != int(fields["user_id"]):
            return _error(400, "Bad Request: CHARGE_NOT_FOUND")
        if charge_id in self.refunded:
            return _error(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        self.refunded.add(charge_id)
        return _ok(True)

    @staticmethod
    def video_bytes(files: dict[str, bytes]) -> bytes:
        return files.get("video") or max(files.values(), key=len)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description},
                             status=code)
