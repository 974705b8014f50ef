"""Signed Content Credentials in the final MP4, with c2pa-python.

The core signs each video once the worker has made it (after any re-encode that fits a
platform's upload limit), so every path (Telegram, Discord, the web page, the terminal,
remote workers) delivers a signed file and no worker needs the key. The file is signed into
a temporary copy that replaces it: a reader never sees half a manifest.
"""

from __future__ import annotations

import datetime
import io
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import c2pa
from PIL import Image

from bot.models import Job
from bot.provenance.credentials import CERT_SETTING, KEY_SETTING, Credentials, ProvenanceError
from bot.provenance.manifest import PARENT, PHOTO, Made, manifest
from engine.spec.work import Video

log = logging.getLogger(__name__)

MP4 = "video/mp4"
# Room kept free in an upload budget: a new clip's manifest is about 3.4 KB with a two-
# certificate chain, and each extension carries the one before it (about 6 KB more a link;
# benchmarks/PROVENANCE.md). A prompt and a photo ingredient add their own size.
RESERVE_BYTES = 16 * 1024
RESERVE_PER_EXTENSION = 8 * 1024
RESERVE_WITH_PROMPT = 64 * 1024
# No network while signing or reading: no remote manifests, no OCSP. No thumbnails: a video
# gets none anyway, and a photo ingredient's would put the person's picture in every file.
SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
            "builder": {"thumbnail": {"enabled": False}}}


def bot_version() -> str:
    try:
        return version("i2v-bot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


class ContentCredentials:
    """Signs videos with one certificate; checked once at start by signing a tiny image, so
    a certificate C2PA refuses stops the bot before any job is made."""

    def __init__(self, credentials: Credentials, *, weights: Mapping[str, str],
                 label: str = "", with_prompt: bool = False,
                 verify_after_sign: bool = True) -> None:
        """`verify_after_sign`: c2pa reads back what it signed (the benchmark times it
        off too; the bot keeps it on)."""
        self.credentials = credentials
        self.label = label
        self.weights = dict(weights)  # model -> its weights as the manifest names them
        self.with_prompt = with_prompt
        self.version = bot_version()
        self._lock = threading.Lock()  # one Builder at a time on the shared context
        try:
            signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
                credentials.algorithm, credentials.chain_pem, credentials.key_pem, None))
            settings = c2pa.Settings.from_dict(SETTINGS).set(
                "verify.verify_after_sign", "true" if verify_after_sign else "false")
            self._context = c2pa.Context(settings=settings, signer=signer)
            self._check()
        except c2pa.C2paError as exc:
            raise ProvenanceError(f"C2PA refuses {self._names()}: {one_line(exc)}.") from None

    @property
    def notice(self) -> str | None:
        """The line `serve` prints when it made the local certificate just now."""
        if not self.credentials.made_now:
            return None
        return (f"Content Credentials: made {self.credentials.source.removeprefix('the ')} "
                f"(valid until {self.credentials.not_after:%Y-%m-%d}); set {CERT_SETTING} "
                f"and {KEY_SETTING} to sign with a certificate of your own.")

    def reserve(self, job: Job) -> int:
        extra = RESERVE_WITH_PROMPT if self.with_prompt else 0
        return RESERVE_BYTES + RESERVE_PER_EXTENSION * job.extension + extra

    def sign(self, video: Video, job: Job, parent: Path | None) -> Video:
        params = video.params or job.params
        photo = job.input_path if (self.with_prompt and job.extends is None
                                   and job.input_path.is_file()) else None
        made = Made(job_id=job.id, params=params,
                    weights=self.weights.get(params.model, params.model),
                    when=datetime.datetime.now(datetime.UTC), continues=job.extends,
                    has_parent=parent is not None, has_photo=photo is not None,
                    with_prompt=self.with_prompt)
        signing = video.path.with_name(f".{video.path.name}.signing")
        try:
            with self._lock, c2pa.Builder(manifest(made, video.path.name, self.version),
                                          context=self._context) as builder:
                if parent is not None:
                    with open(parent, "rb") as earlier:
                        builder.add_ingredient({"title": parent.name, "relationship":
                                                "parentOf", "label": PARENT}, MP4, earlier)
                if photo is not None:
                    with open(photo, "rb") as picture:
                        builder.add_ingredient({"title": "photo", "relationship": "inputTo",
                                                "label": PHOTO}, _mime(photo), picture)
                with open(video.path, "rb") as source, open(signing, "w+b") as dest:
                    builder.sign(MP4, source, dest)
            os.replace(signing, video.path)
        finally:
            signing.unlink(missing_ok=True)
        size = video.path.stat().st_size
        log.info("job %s user %s: signed (%d bytes of Content Credentials%s)", job.id,
                 job.user_id, size - video.size_bytes,
                 f", continuing {parent.name}" if parent else "")
        return replace(video, size_bytes=size)

    def _check(self) -> None:
        source, dest = io.BytesIO(), io.BytesIO()
        Image.new("RGB", (8, 8)).save(source, "PNG")
        source.seek(0)
        with c2pa.Builder({"title": "check"}, context=self._context) as builder:
            builder.set_intent(c2pa.C2paBuilderIntent.CREATE,
                               c2pa.C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA)
            builder.sign("image/png", source, dest)

    def _names(self) -> str:
        source = self.credentials.source
        return f"{source} (or its key {KEY_SETTING})" if source.startswith(CERT_SETTING) \
            else source


def _mime(photo: Path) -> str:
    with Image.open(photo) as image:
        return image.get_format_mimetype() or "image/jpeg"


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()).rstrip(".")
