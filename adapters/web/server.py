"""The aiohttp application of the web page: its routes, its static files, the headers every
response carries, and the guards every request passes first (see `access.py` for who may do
what, `refusals.py` for how a refusal is said)."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from adapters.web.access import (
    CLIENT,
    COOKIE,
    SESSION,
    Sessions,
    client_address,
    limit_key,
    looks_local,
    over_https,
    same_origin,
    set_session_cookie,
    shown_host,
)
from adapters.web.guards import Guards
from adapters.web.live import LiveEvents
from adapters.web.refusals import Refused
from adapters.web.routes import Routes, language_of
from bot.ports import CorePort
from bot.texts import text

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
OPEN_PATHS = ("/static/", "/login")  # reachable without a session
SMALL_FORM = 64 * 1024  # the bodies read whole (sign-in, re-roll); the upload is streamed
# The page's own script and styles only, in no frame, sending no address to other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' blob: data:; media-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def build_web_app(core: CorePort, live: LiveEvents, sessions: Sessions, guards: Guards, *,
                  password: str | None) -> web.Application:
    app = web.Application(middlewares=[refusals(guards), guard(sessions, password, guards)],
                          client_max_size=SMALL_FORM)
    app.on_response_prepare.append(_security_headers)
    Routes(core, live, sessions, password, guards).register(app)
    app.router.add_static("/static/", STATIC)
    return app


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def refusals(guards: Guards) -> Middleware:
    """Every refusal said truthfully, as JSON where the page's script asked; a client that
    went away midway (an upload aborted in the browser) is one INFO line, no traceback."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        lang = language_of(request)
        try:
            return await handler(request)
        except Refused as exc:
            guards.refusals.note(f"refusals ({exc.key})", request.get(CLIENT, ""))
            return exc.response(lang)
        except web.HTTPRequestEntityTooLarge:  # a small form over its limit
            guards.refusals.note("bodies over the limit", request.get(CLIENT, ""))
            return _refuse(request, 413, text("web_body_too_large", lang,
                                              limit_kib=SMALL_FORM // 1024))
        except ConnectionError as exc:  # the log line is escaped by the formatter
            log.info("web: %s %s from %s ended early (%s)", request.method, request.path,
                     request.get(CLIENT, "?"), type(exc).__name__)
            return web.Response(status=400)

    return middleware


def guard(sessions: Sessions, password: str | None, guards: Guards) -> Middleware:
    """Refuse what does not come from this machine (without a password) and cross-site
    posts, then find the person: their signed cookie, or (only on the page, only without a
    password, a few a day per address) a new session."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        lang = language_of(request)
        client = client_address(request, guards.trusted)
        request[CLIENT] = client
        if guards.local_only and not looks_local(request):
            guards.refusals.note("requests from beyond this machine", limit_key(client))
            log.debug("web: refused %s %s from %s (Host %s)", request.method,
                      request.path, client, request.host)
            return _refuse(request, 403, text("web_local_only", lang))
        if request.method == "POST" and not same_origin(request,
                                                        shown_host(request, guards.trusted)):
            guards.refusals.note("cross-site posts", limit_key(client))
            return _refuse(request, 403, text("web_other_site", lang))
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
            wait = guards.new_sessions.hit(limit_key(client))
            if wait is not None:
                guards.refusals.note("new sessions over the limit per address",
                                     limit_key(client))
                return _refuse(request, 429, text("web_too_many_sessions", lang,
                                                  minutes=max(1, round(wait / 60))),
                               {"Retry-After": str(round(wait))})
            session, new_cookie = sessions.new()
            log.info("user web:%s: a new browser session from %s", session, client)
        request[SESSION] = session
        response = await handler(request)
        if new_cookie is not None:
            set_session_cookie(response, new_cookie, over_https(request, guards.trusted))
        return response

    return middleware


def _refuse(request: web.Request, status: int, message: str,
            headers: dict[str, str] | None = None) -> web.Response:
    """JSON for the page's script, plain text for a browser's own request."""
    if request.path.startswith("/api/") or request.method == "POST":
        return web.json_response({"error": message}, status=status, headers=headers)
    return web.Response(text=message, status=status, headers=headers)
