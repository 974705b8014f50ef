"""Who is who on the web page, and who may use it.

Each browser is a person of its own, `web:<id>`: the id is random and the cookie carries it
with an HMAC signature, so a browser cannot claim another's id (an admin's, say) by editing
its cookie, and the id is short enough to be shown on the page and put into I2V_ADMINS. The
signing key lives in the data folder (sessions survive a restart) and is mixed with the
password, so changing I2V_WEB_PASSWORD signs everyone out.

Bound to the loopback interface, the page trusts whoever can reach it, and refuses requests
whose Host header names another site (a DNS-rebinding page in the person's own browser).
Bound anywhere else it needs I2V_WEB_PASSWORD. State-changing requests must come from the
page itself (the Origin header), and the cookie is SameSite=Lax and HttpOnly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger(__name__)

PLATFORM = "web"
COOKIE = "i2v_session"
LANG_COOKIE = "i2v_lang"
COOKIE_MAX_AGE = 365 * 86400
KEY_FILE = "web_session.key"
SESSION = web.RequestKey("session", str)  # the person's id, set by the guard
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name or an empty string (every interface)
        return False


def load_key(data_dir: Path, password: str | None) -> bytes:
    """The cookie-signing key: a random secret kept in the data folder, mixed with the
    password."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:  # readable by this user only, and never replaced: that would sign everyone out
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes()
    else:
        secret = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as file:
            file.write(secret)
    return hmac.new(secret, b"password:" + (password or "").encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Sessions:
    key: bytes

    def new(self) -> tuple[str, str]:
        """A fresh person: their id and the cookie that carries it."""
        session = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 16 characters
        return session, f"{session}.{self._sign(session)}"

    def verify(self, cookie: str | None) -> str | None:
        """The session id a cookie carries, or None when it is missing or forged."""
        session, _, signature = (cookie or "").partition(".")
        if not session or not hmac.compare_digest(signature.encode(),
                                                  self._sign(session).encode()):
            return None
        return session

    def _sign(self, session: str) -> str:
        return hmac.new(self.key, session.encode(), hashlib.sha256).hexdigest()[:32]


def password_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(),
                               hashlib.sha256(expected.encode()).digest())


def host_allowed(request: web.Request, loopback: bool) -> bool:
    if not loopback:
        return True
    host = urlsplit(f"//{request.host}").hostname or ""
    return host.lower() in LOOPBACK_NAMES or is_loopback(host)


def same_origin(request: web.Request) -> bool:
    """A POST must come from this page: browsers send Origin with every fetch POST."""
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser's cross-site request: curl, a test client
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


def set_session_cookie(response: web.StreamResponse, cookie: str) -> None:
    response.set_cookie(COOKIE, cookie, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        path="/")
