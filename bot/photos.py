"""What an upload must be before it is downloaded: the same rules on every platform as the
engine's (JPEG, PNG or WebP), judged from the name, the type and the size the platform
reports."""

from __future__ import annotations

from pathlib import PurePosixPath

from bot.errors import UserError
from bot.views import mib
from engine.spec.photos import ACCEPTED_SUFFIXES, ACCEPTED_TYPES


def check_upload(name: str, mime_type: str | None, size: int | None, limit: int) -> None:
    kind = (mime_type or "").split(";")[0].strip().lower()
    suffix = PurePosixPath(name).suffix.lower()
    if kind:
        is_image, accepted = kind.startswith("image/"), kind in ACCEPTED_TYPES
    else:
        is_image = accepted = suffix in ACCEPTED_SUFFIXES
    if not is_image:
        raise UserError("not_an_image", name=name)
    if not accepted:
        shown = kind.removeprefix("image/") if kind else suffix.lstrip(".")
        raise UserError("image_format", format=shown.upper() or "?")
    if size and size > limit:
        raise UserError("photo_too_big", size_mib=mib(size), limit_mib=mib(limit))


def is_upload_ok(name: str, mime_type: str | None) -> bool:
    try:
        check_upload(name, mime_type, None, 0)
    except UserError:
        return False
    return True
