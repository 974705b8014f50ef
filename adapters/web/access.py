"""Who is who on the web page, where they come from, and who may use it.

Each browser is a person of its own, `web:<id>`: the id is random and the cookie carries it
signed by itsdangerous (a maintained library: HMAC-SHA1 over the value and a timestamp,
compared in constant time), so a browser cannot claim another's id (an admin's, say) by
editing its cookie, and the id is short enough to be shown on the page and put into
I2V_ADMINS. The signing key lives in the data folder (sessions survive a restart), written
atomically and checked at every start, and is mixed with the password, so changing
I2V_WEB_PASSWORD signs everyone out.

Without a password the page serves only this machine: it refuses requests whose Host names
another site (a DNS-rebinding page in the person's own browser) and requests that show a
proxy's forwarding headers (a reverse proxy on this host would open it to the internet).
Bound anywhere else it needs I2V_WEB_PASSWORD. State-changing requests must come from the
page itself (the Origin header); the cookie is SameSite=Lax and HttpOnly, and Secure when
the page is reached over HTTPS.

The client address is the connection's, or, only when that connection comes from one of
I2V_WEB_TRUSTED_PROXIES, the last address in X-Forwarded-For that is not a trusted proxy.
Limits per address count an IPv6 client by its /64 network (one household, one phone).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from itsdangerous import BadData, TimestampSigner

log = logging.getLogger(__name__)

PLATFORM = "web"
COOKIE = "i2v_session"
LANG_COOKIE = "i2v_lang"
COOKIE_MAX_AGE = 365 * 86400
KEY_FILE = "web_session.key"
KEY_BYTES = 32
SESSION = web.RequestKey("session", str)  # the person's id, set by the guard
CLIENT = web.RequestKey("client", str)  # the client address, set by the guard
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
FORWARDING = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
              "X-Real-IP", "Via")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name or an empty string (every interface)
        return False


def load_key(data_dir: Path, password: str | None) -> bytes:
    """The cookie-signing key: a random secret kept in the data folder, mixed with the
    password. A missing key is made; a damaged one (empty or short after a crash or a full
    disk, or not random) is replaced, which signs everyone out, and said in one line."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        secret = _new_key(path)
    else:
        if not usable_key(secret):
            log.warning("web: %s was damaged (%d bytes); a new key was made, so every browser "
                        "signs in again", path, len(secret))
            secret = _new_key(path)
    return hmac.new(secret, b"password:" + (password or "").encode(), hashlib.sha256).digest()


def usable_key(secret: bytes) -> bool:
    """As long as a key this bot writes, and not a run of a few byte values (zeros from a
    crash): 32 random bytes have about 30 different values."""
    return len(secret) >= KEY_BYTES and len(set(secret)) >= KEY_BYTES // 2


def _new_key(path: Path) -> bytes:
    """32 bytes from the operating system's random source, readable by this user only,
    written whole or not at all (a temporary file, synced, then renamed over the key)."""
    secret = secrets.token_bytes(KEY_BYTES)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secret)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return secret


@dataclass(frozen=True)
class Sessions:
    key: bytes

    @property
    def _signer(self) -> TimestampSigner:
        return TimestampSigner(self.key, salt="i2v-web-session")

    def new(self) -> tuple[str, str]:
        """A fresh person: their id and the cookie that carries it."""
        session = secrets.token_hex(8)  # 16 characters
        return session, self._signer.sign(session).decode()

    def verify(self, cookie: str | None) -> str | None:
        """The session id a cookie carries; None when it is missing, forged, too old or
        not even text (a bad cookie is no cookie)."""
        if not cookie:
            return None
        try:
            return self._signer.unsign(cookie, max_age=COOKIE_MAX_AGE).decode()
        except (BadData, UnicodeError, ValueError):
            return None


def password_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(given.encode(errors="replace")).digest(),
                               hashlib.sha256(expected.encode()).digest())


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def in_networks(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def peer(request: web.BaseRequest) -> str:
    """The address of the connection itself."""
    transport = request.transport
    info = transport.get_extra_info("peername") if transport is not None else None
    return str(info[0]) if info else ""


def from_trusted_proxy(request: web.BaseRequest, trusted: tuple[Network, ...]) -> bool:
    return bool(trusted) and in_networks(peer(request), trusted)


def client_address(request: web.BaseRequest, trusted: tuple[Network, ...]) -> str:
    """Who sent the request: the connection's address, or behind a trusted proxy the last
    address in X-Forwarded-For that is not one of the trusted proxies."""
    address = peer(request)
    if not from_trusted_proxy(request, trusted):
        return address
    hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", [])
            for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not in_networks(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:  # garbage in the header: the proxy's own address then
                return address
    return address


def limit_key(address: str) -> str:
    """What the limits per address count: an IPv6 client by its /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def over_https(request: web.BaseRequest, trusted: tuple[Network, ...]) -> bool:
    """Reached over HTTPS: directly, or through a trusted proxy that says so."""
    if request.secure:
        return True
    if not from_trusted_proxy(request, trusted):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return proto == "https"


def shown_host(request: web.BaseRequest, trusted: tuple[Network, ...]) -> str:
    """The host the browser asked for: behind a trusted proxy, its X-Forwarded-Host."""
    if from_trusted_proxy(request, trusted):
        forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.host


def looks_local(request: web.BaseRequest) -> bool:
    """Whether a request truly comes from this machine: a loopback Host, no proxy's
    forwarding headers, and HTTP/1.1 (nginx speaks HTTP/1.0 to the page by default)."""
    host = urlsplit(f"//{request.host}").hostname or ""
    if not (host.lower() in LOOPBACK_NAMES or is_loopback(host)):
        return False
    if any(name in request.headers for name in FORWARDING):
        return False
    return request.version >= (1, 1)


def same_origin(request: web.BaseRequest, host: str) -> bool:
    """A POST must come from this page: browsers send Origin with every fetch POST."""
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser's cross-site request: curl, a test client
        return True
    return urlsplit(origin).netloc.lower() == host.lower()


def set_session_cookie(response: web.StreamResponse, cookie: str, secure: bool) -> None:
    response.set_cookie(COOKIE, cookie, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        path="/", secure=secure)
