"""A request the page refuses: a status and a catalogue sentence in the page's language,
sent as JSON (the page's script shows `error`), with headers such as Retry-After."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.texts import text

UNREAD_BODY = (408, 413, 415)  # refusals made before the body was read to its end


class Refused(Exception):
    def __init__(self, status: int, key: str, *, headers: dict[str, str] | None = None,
                 **params: Any) -> None:
        super().__init__(key)
        self.status, self.key, self.params = status, key, params
        self.headers = headers or {}

    def response(self, lang: str) -> web.Response:
        response = web.json_response({"error": text(self.key, lang, **self.params)},
                                     status=self.status, headers=self.headers)
        if self.status in UNREAD_BODY:  # the rest of the body is not waited for, nor read
            response.force_close()
        return response


def too_many(key: str, seconds: float, **params: Any) -> Refused:
    """429 with the wait in Retry-After (whole seconds, as the header wants)."""
    wait = max(1, round(seconds))
    return Refused(429, key, headers={"Retry-After": str(wait)}, seconds=wait, **params)
