"""The aiohttp application of the web page: its routes, its static files, and the guard
every request passes first (see `access.py` for who may do what)."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from adapters.web.access import (
    COOKIE,
    SESSION,
    Sessions,
    host_allowed,
    same_origin,
    set_session_cookie,
)
from adapters.web.form import UPLOAD_LIMIT
from adapters.web.live import LiveEvents
from adapters.web.routes import Routes, language_of
from bot.ports import CorePort
from bot.texts import text

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
OPEN_PATHS = ("/static/", "/login")  # reachable without a session


def build_web_app(core: CorePort, live: LiveEvents, sessions: Sessions, *,
                  password: str | None, loopback: bool) -> web.Application:
    # The multipart reader enforces the photo's own limit; this caps the other bodies.
    app = web.Application(middlewares=[guard(sessions, password, loopback)],
                          client_max_size=UPLOAD_LIMIT + 2**20)
    Routes(core, live, sessions, password).register(app)
    app.router.add_static("/static/", STATIC)
    return app


def guard(sessions: Sessions, password: str | None, loopback: bool) -> Middleware:
    """Refuse foreign hosts and cross-site posts, then find the person: their signed
    cookie, or (only on the page, only without a password) a new session."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        lang = language_of(request)
        if not host_allowed(request, loopback) or (request.method == "POST"
                                                   and not same_origin(request)):
            log.warning("web: refused %s %s (Host %s, Origin %s)", request.method,
                        request.path, request.host, request.headers.get("Origin"))
            return web.json_response({"error": text("web_other_site", lang)}, status=403)
        if request.path.startswith(OPEN_PATHS):
            return await handler(request)
        session = sessions.verify(request.cookies.get(COOKIE))
        new_cookie = None
        if session is None:
            if request.path != "/" or request.method != "GET":
                return web.json_response({"error": text("web_need_session", lang)},
                                         status=401)
            if password is not None:
                raise web.HTTPSeeOther("/login")
            session, new_cookie = sessions.new()
            log.info("user web:%s: a new browser session", session)
        request[SESSION] = session
        response = await handler(request)
        if new_cookie is not None:
            set_session_cookie(response, new_cookie)
        return response

    return middleware
