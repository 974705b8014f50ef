"""A fake Discord on 127.0.0.1: the REST API, the CDN and the gateway websocket that the
real discord.py client talks to in the end-to-end tests.

The client is not re-pointed anywhere: it talks to https://discord.com, wss://gateway.discord.gg
and https://cdn.discordapp.com as usual, through the connector this fake hands out (discord.py
takes one in its constructor), which resolves those hosts to 127.0.0.1 and trusts the test
certificate authority that signed this server's certificate.

It records every request (JSON bodies and multipart files) and lets a test push gateway
events (INTERACTION_CREATE) and queue failures (a 429 with `Via`, as Discord's proxy sends).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import trustme
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractResolver, ResolveResult

RECORD = web.RequestKey("record", object)

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
DM_CHANNEL = 600000000000000001
EPOCH_MS = 1420070400000
TOKEN = "fake-token"
HOSTS = ("discord.com", "gateway.discord.gg", "cdn.discordapp.com")
GATEWAY = "wss://gateway.discord.gg"
CDN = "https://cdn.discordapp.com"


class LoopbackResolver(AbstractResolver):
    """Every host name resolves to the fake server's port on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host="127.0.0.1", port=self.port,
                              family=socket.AF_INET, proto=0, flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        pass


def snowflake(counter=itertools.count(1)) -> int:  # noqa: B008 (a shared counter on purpose)
    return ((int(time.time() * 1000) - EPOCH_MS) << 22) + next(counter)


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py decodes JSON only for a Content-Type of exactly application/json.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def user_payload(user_id: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "global_name": name.title(),
            "discriminator": "0", "avatar": None, "bot": bot, "public_flags": 0}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def content(self) -> str:
        return (self.json or {}).get("content") or ""

    @property
    def flags(self) -> int:
        return int((self.json or {}).get("flags") or 0)


@dataclass
class Failure:
    method: str
    pattern: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    with_files: bool = False  # only a request that uploads a file


class FakeDiscord:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self.failures: list[Failure] = []
        self.identified = asyncio.Event()
        self._changed = asyncio.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 2**20)
        api = "/api/v10"
        app.add_routes([
            web.get(f"{api}/users/@me", self._me),
            web.get(f"{api}/users/{{user}}", self._user),
            web.post(f"{api}/users/@me/channels", self._dm_channel),
            web.get(f"{api}/oauth2/applications/@me", self._application),
            web.get(f"{api}/gateway", self._gateway_info),
            web.get(f"{api}/gateway/bot", self._gateway_info),
            web.put(f"{api}/applications/{{app}}/commands", self._put_commands),
            web.put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands),
            web.post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback),
            web.post(f"{api}/webhooks/{{app}}/{{token}}", self._message),
            web.patch(f"{api}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._message),
            web.delete(f"{api}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._deleted),
            web.post(f"{api}/channels/{{channel}}/messages", self._message),
            web.get("/attachments/{name}", self._attachment),
            web.get("/", self._websocket),
        ])
        self.app = app
        self._ca = trustme.CA()

    # Lifecycle and addresses

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(*HOSTS).configure_cert(server_tls)
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=server_tls)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def connector(self) -> aiohttp.TCPConnector:
        """What the bot under test connects through: Discord's hosts lead here."""
        client_tls = ssl.create_default_context()
        self._ca.configure_trust(client_tls)
        return aiohttp.TCPConnector(resolver=LoopbackResolver(self.port), ssl=client_tls)

    # What tests use

    def fail_next(self, method: str, pattern: str, status: int = 429,
                  body: dict[str, Any] | None = None, via: bool = True,
                  with_files: bool = False) -> None:
        """The next request matching method and path regex (and uploading a file, with
        `with_files`) gets this answer instead."""
        body = body or {"message": "You are being rate limited.", "retry_after": 0.3,
                        "global": False}
        headers = {"Via": "1.1 google"} if via else {}
        if status == 429:
            headers.update({"X-RateLimit-Scope": "user", "Retry-After": "1"})
        self.failures.append(Failure(method, pattern, status, body, headers, with_files))

    def add_attachment(self, name: str, data: bytes, content_type: str | None,
                       size: int | None = None) -> dict[str, Any]:
        self.cdn[name] = (data, content_type or "application/octet-stream")
        payload = {"id": str(snowflake()), "filename": name,
                   "size": len(data) if size is None else size,
                   "url": f"{CDN}/attachments/{name}",
                   "proxy_url": f"{CDN}/attachments/{name}"}
        if content_type:
            payload["content_type"] = content_type
        return payload

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await asyncio.wait_for(self.identified.wait(), 10)
        assert self._ws is not None
        self._seq += 1
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def wait_for(self, predicate: Callable[[Recorded], bool],
                       timeout: float = 30) -> Recorded:
        def found() -> Recorded | None:
            return next((r for r in self.requests if predicate(r)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(found), timeout)
        hit = found()
        assert hit is not None
        return hit

    def matching(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # REST

    @web.middleware
    async def _middleware(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            record = request[RECORD] = await self._record(request)
            for failure in self.failures:
                if failure.method == request.method and re.search(
                        failure.pattern, record.path) and (record.files or not failure.with_files):
                    self.failures.remove(failure)
                    record.path += " [refused]"
                    return reply(failure.body, failure.status, failure.headers)
        return await handler(request)

    async def _record(self, request: web.Request) -> Recorded:
        record = Recorded(request.method, request.path.removeprefix("/api/v10"),
                          dict(request.query))
        if request.content_type == "application/json":
            record.json = await request.json()
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            for name, value in form.items():
                if name == "payload_json":
                    record.json = json.loads(value)  # type: ignore[arg-type]
                elif hasattr(value, "file"):
                    record.files[name] = (value.filename, value.file.read())
        async with self._changed:
            self.requests.append(record)
            self._changed.notify_all()
        return record

    async def _me(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return reply({"message": "401: Unauthorized", "code": 0}, status=401)
        return reply(user_payload(BOT_ID, "i2vbot", bot=True))

    async def _user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user"])
        return reply(user_payload(user_id, f"user{user_id}"))

    async def _dm_channel(self, request: web.Request) -> web.Response:
        record: Recorded = request[RECORD]  # type: ignore[assignment]
        recipient = int((record.json or {})["recipient_id"])
        return reply({"id": str(DM_CHANNEL), "type": 1,
                      "recipients": [user_payload(recipient, f"user{recipient}")]})

    async def _application(self, request: web.Request) -> web.Response:
        return reply({"id": str(APP_ID), "name": "i2vbot", "description": "", "icon": None,
                      "bot_public": True, "bot_require_code_grant": False,
                      "owner": user_payload(1, "owner"), "verify_key": "00", "flags": 0})

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return reply({"url": GATEWAY, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def _put_commands(self, request: web.Request) -> web.Response:
        payload = await request.json()
        guild = request.match_info.get("guild")
        self.commands[guild or "global"] = payload
        out = []
        for command in payload:
            out.append({"description": "", **command, "id": str(snowflake()),
                        "application_id": str(APP_ID), "version": "1",
                        **({"guild_id": guild} if guild else {})})
        return reply(out)

    async def _callback(self, request: web.Request) -> web.Response:
        return reply({"interaction": {"id": request.match_info["id"], "type": 2}})

    async def _message(self, request: web.Request) -> web.Response:
        record: Recorded = request[RECORD]  # type: ignore[assignment]
        body = record.json or {}
        channel = request.match_info.get("channel", "700")
        attachments = [{"id": str(snowflake()), "filename": filename, "size": len(data),
                        "url": f"{CDN}/attachments/{filename}",
                        "proxy_url": f"{CDN}/attachments/{filename}"}
                       for filename, data in record.files.values()]
        return reply({
            "id": str(snowflake()), "channel_id": channel, "type": 0,
            "content": body.get("content") or "", "author": user_payload(BOT_ID, "i2vbot", True),
            "attachments": attachments, "embeds": [], "mentions": [], "mention_roles": [],
            "pinned": False, "mention_everyone": False, "tts": False,
            "timestamp": "2025-01-01T00:00:00+00:00", "edited_timestamp": None,
            "flags": body.get("flags", 0), "components": body.get("components", []),
            "application_id": str(APP_ID), "webhook_id": str(APP_ID)})

    async def _deleted(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _attachment(self, request: web.Request) -> web.Response:
        data, kind = self.cdn[request.match_info["name"]]
        return web.Response(body=data, headers={"Content-Type": kind})

    # Gateway

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 40000}}))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 2:  # IDENTIFY
                self._seq += 1
                await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": {
                    "v": 10, "user": user_payload(BOT_ID, "i2vbot", bot=True), "guilds": [],
                    "session_id": "fake-session", "resume_gateway_url": GATEWAY,
                    "application": {"id": str(APP_ID), "flags": 0}, "shard": [0, 1]}}))
                self.identified.set()
            elif frame["op"] == 1:  # HEARTBEAT
                await ws.send_str(json.dumps({"op": 11}))
        return ws
