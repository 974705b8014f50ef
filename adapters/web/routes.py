"""What the page asks the server: the page itself, a job from the form, cancel, re-roll,
the live events of the person's jobs and their previews, their history, and their videos.

Every request is a person (`web:<session>`, set by the guard in `server.py`) talking to the
same core as the chats; refusals are the catalogue's sentences in the page's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from adapters.web import render
from adapters.web.access import (
    CLIENT,
    COOKIE,
    LANG_COOKIE,
    PLATFORM,
    SESSION,
    Sessions,
    limit_key,
    over_https,
    password_matches,
    set_session_cookie,
)
from adapters.web.form import UPLOAD_LIMIT, read_job_request, within
from adapters.web.guards import Guards
from adapters.web.live import LiveEvents
from adapters.web.refusals import too_many
from bot.errors import UserError
from bot.models import ChatRef, JobStatus, Person, Role
from bot.ports import CorePort
from bot.texts import LANGUAGES, error_text, language, text
from bot.views import advice, mib, quota_reply

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0  # a comment line this often tells a dead connection from a quiet one
STARTING_POLL_S = 1.0  # how soon an open page hears that the bot is ready
HISTORY_LENGTH = 10
FINISHED = (JobStatus.DONE, JobStatus.DELIVERED)


def language_of(request: web.Request) -> str:
    """The page's language: a ?lang= switch, then the remembered choice, then the
    browser's first language."""
    for chosen in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    return language(request.headers.get("Accept-Language", "").split(",")[0].strip())


def refusal(error: UserError, lang: str) -> web.Response:
    return web.json_response({"error": error_text(error, lang)}, status=400)


class VideoFile(web.FileResponse):
    """A video that says when it has been sent: only then is its job delivered. A browser
    that drops the connection midway (a seek) is not counted; its next request is."""

    def __init__(self, path: Path, sent: Callable[[], Awaitable[None]],
                 headers: dict[str, str]) -> None:
        super().__init__(path, headers=headers)
        self._sent = sent

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        writer = await super().prepare(request)  # writes the file, or the range asked for
        if self.status in (200, 206):
            await self._sent()
        return writer


class Routes:
    def __init__(self, core: CorePort, live: LiveEvents, sessions: Sessions,
                 password: str | None, guards: Guards) -> None:
        self.core = core
        self.live = live
        self.sessions = sessions
        self.password = password
        self.guards = guards

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.page)
        app.router.add_get("/history", self.history)
        app.router.add_post("/api/jobs", self.submit)
        app.router.add_post("/api/jobs/{job}/cancel", self.cancel)
        app.router.add_post("/api/jobs/{job}/again", self.again)
        app.router.add_get("/api/events", self.events)
        app.router.add_get("/api/jobs/{job}/preview.jpg", self.preview)
        app.router.add_get("/videos/{job}.{kind:mp4|jpg}", self.video)
        if self.password is not None:
            app.router.add_get("/login", self.login_page)
            app.router.add_post("/login", self.login)
            app.router.add_post("/logout", self.logout)

    @staticmethod
    def who(request: web.Request) -> tuple[Person, ChatRef, str]:
        session, lang = request[SESSION], language_of(request)
        return (Person(PLATFORM, session, language=lang),
                ChatRef(PLATFORM, chat_id=session, language=lang), lang)

    # The page

    async def page(self, request: web.Request) -> web.Response:
        person, _, lang = self.who(request)
        user = await self.core.user(person)
        models = self.core.models
        model = request.query.get("model", models[0])
        body = render.page(lang, person.platform_id, user.role is Role.ADMIN,
                           user.default_preset or self.core.default_preset,
                           await self._history(person, lang), mib(UPLOAD_LIMIT),
                           model if model in models else models[0], models,
                           starting=self.core.starting,
                           sign_out=self.password is not None)
        response = web.Response(text=body, content_type="text/html")
        if request.query.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax")
        return response

    async def history(self, request: web.Request) -> web.Response:
        person, _, lang = self.who(request)
        return web.Response(text=await self._history(person, lang), content_type="text/html")

    async def _history(self, person: Person, lang: str) -> str:
        jobs = await self.core.history(person, HISTORY_LENGTH)
        entries = [(job, await self.core.result_of(job) if job.status in FINISHED else None)
                   for job in jobs]
        quota = quota_reply(await self.core.balance(person), lang)
        return render.history(entries, quota, lang)

    # Jobs

    async def submit(self, request: web.Request) -> web.Response:
        person, chat, lang = self.who(request)
        wait = self.guards.submits.hit(limit_key(request[CLIENT]))  # before reading a byte
        if wait is not None:
            raise too_many("web_too_many_submits", wait)
        try:
            job_request = await read_job_request(request, person, chat, self.core.default_preset,
                                                 self.core.models,
                                                 self.guards.config.body_timeout_s)
            job = await self.core.submit(job_request)
        except UserError as exc:
            log.info("user web:%s: refused: %s", person.platform_id, exc)
            return refusal(exc, lang)
        log.info("job %s user web:%s: submitted from the page", job.id, person.platform_id)
        return web.json_response({"job": job.id, "advice": advice(job.params, lang)})

    async def cancel(self, request: web.Request) -> web.Response:
        person, _, lang = self.who(request)
        try:
            job = await self.core.cancel(person, request.match_info["job"])
        except UserError as exc:
            return refusal(exc, lang)
        # A waiting job is cancelled now (its event says so); a running one after its step.
        stopping = job.status is JobStatus.RUNNING
        return web.json_response({"job": job.id, "text": text("cancelling", lang, job=job.id)
                                  if stopping else None})

    async def again(self, request: web.Request) -> web.Response:
        person, chat, lang = self.who(request)
        form = await within(request.post(), self.guards.config.body_timeout_s)
        better = form.get("better") == "1"
        try:
            job = await self.core.again(person, request.match_info["job"], better=better,
                                        chat=chat)
        except UserError as exc:
            return refusal(exc, lang)
        return web.json_response({"job": job.id})

    # Live events: Server-Sent Events, which the browser reconnects by itself

    async def events(self, request: web.Request) -> web.StreamResponse:
        session, lang = request[SESSION], language_of(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        starting = self.core.starting  # the page says so until the model is ready
        with contextlib.suppress(ConnectionError), self.live.subscribe(session) as queue:
            while True:
                if starting and not self.core.starting:
                    starting = False
                    await response.write(b"event: ready\ndata: {}\n\n")
                try:
                    event = await asyncio.wait_for(
                        queue.get(), STARTING_POLL_S if starting else HEARTBEAT_S)
                except TimeoutError:
                    if not starting:
                        await response.write(b": still here\n\n")
                    continue
                if event is None:  # the server is stopping
                    break
                data = json.dumps(render.event_json(event, lang), ensure_ascii=False)
                await response.write(f"data: {data}\n\n".encode())
        return response

    async def preview(self, request: web.Request) -> web.Response:
        """A running job's latest preview, only to its own session (gone once it ends)."""
        image = self.live.preview(request[SESSION], request.match_info["job"])
        if image is None:
            raise web.HTTPNotFound(text=text("web_video_gone", language_of(request)))
        return web.Response(body=image, content_type="image/jpeg",
                            headers={"Cache-Control": "no-store"})

    # Videos, only to the person who asked for them

    async def video(self, request: web.Request) -> web.StreamResponse:
        person, _, lang = self.who(request)
        try:
            job = await self.core.own_job(person, request.match_info["job"])
        except UserError:
            raise web.HTTPNotFound(text=text("web_video_gone", lang)) from None
        result = await self.core.result_of(job)
        if result is None:
            raise web.HTTPNotFound(text=text("web_video_gone", lang))
        if request.match_info["kind"] == "jpg":
            return web.FileResponse(result.poster)
        async def sent() -> None:
            if job.status is JobStatus.DONE:  # the person has it now
                await self.core.delivered(job.id)

        return VideoFile(result.path, sent, headers={
            "Content-Type": "video/mp4",
            **({"Content-Disposition": f'attachment; filename="i2v-{job.id}.mp4"'}
               if request.query.get("download") else {})})

    # The password, where the page is open to the network

    async def login_page(self, request: web.Request) -> web.Response:
        return web.Response(text=render.login(language_of(request)), content_type="text/html")

    async def login(self, request: web.Request) -> web.Response:
        """Checked in constant time; neither the password nor a guess is ever logged. Wrong
        guesses are counted per client address: past `login_attempts` in 15 minutes the
        address is refused (429, Retry-After) without its guesses being checked, and the
        log gets one summary line a minute rather than a line per guess."""
        lang = language_of(request)
        address = limit_key(request[CLIENT])
        if not self.guards.guesses.allowed(address):
            self.guards.refusals.note("password guesses refused", address)
            wait = self.guards.guesses.retry_after(address)
            seconds = max(1, round(wait))
            return web.Response(
                text=render.login(lang, text("web_too_many_guesses", lang, seconds=seconds)),
                content_type="text/html", status=429, headers={"Retry-After": str(seconds)})
        form = await within(request.post(), self.guards.config.body_timeout_s)
        given = str(form.get("password", ""))
        if self.password is None or not password_matches(given, self.password):
            self.guards.guesses.hit(address)
            self.guards.refusals.note("wrong passwords", address)
            return web.Response(text=render.login(lang, text("web_wrong_password", lang)),
                                content_type="text/html", status=401)
        refused = self.guards.new_sessions.hit(address)
        if refused is not None:  # one password, many people: still a few a day per address
            return web.Response(
                text=render.login(lang, text("web_too_many_sessions", lang,
                                             minutes=max(1, round(refused / 60)))),
                content_type="text/html", status=429,
                headers={"Retry-After": str(round(refused))})
        session, cookie = self.sessions.new()
        log.info("user web:%s: signed in from %s", session, request[CLIENT])
        response = web.Response(status=303, headers={"Location": "/"})
        set_session_cookie(response, cookie, over_https(request, self.guards.trusted))
        return response

    async def logout(self, request: web.Request) -> web.Response:
        """Sign this browser out: its cookie goes; the password is asked again."""
        log.info("user web:%s: signed out", request[SESSION])
        response = web.Response(status=303, headers={"Location": "/login"})
        response.del_cookie(COOKIE, path="/")
        return response
