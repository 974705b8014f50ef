"""Moderation on the core's side: whose photos and videos are checked, and what a refusal
does.

The classifier runs behind a port (`PhotoChecker`, built by the composition root from
engine/moderation/): the core calls it on a worker thread before a photo costs credits or
GPU time, and puts the thresholds in the spec of each job whose video its worker must check.
Every refusal is a row in the store (who, when, which check, the scores, the photo's
SHA-256; the photo itself only where the operator keeps them). A person refused
`daily_limit` times since the daily reset is paused until the next one, and the admins are
told in their private chats. Nothing is ever let through unchecked: a classifier that
cannot run refuses photos and fails videos, with a neutral word to the person.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from bot.errors import UserError
from bot.models import Job, Role, User
from bot.outputs import Outputs
from bot.store import Refusal, Store
from bot.texts import language, text
from engine.spec.errors import Rejected
from engine.spec.moderation import PAUSED, REFUSED, UNAVAILABLE, Thresholds, Verdict

log = logging.getLogger(__name__)


class PhotoChecker(Protocol):
    """The classifier as the core sees it: engine.moderation's PictureClassifier."""

    def load(self) -> None:
        """Load the model (blocks; raises when it cannot)."""
        ...

    def describe(self) -> str: ...

    def check_photo(self, photo: bytes, thresholds: Thresholds) -> Verdict:
        """Blocks; a photo that cannot be decoded is `Rejected`."""
        ...


# Tells one person something outside any job ("telegram:123", the message); False where
# their platform has no way to reach them (the event bus's `tell`).
Tell = Callable[[str, str], bool]


@dataclass(frozen=True)
class ModerationPolicy:
    mode: str = "photos+videos"  # off | photos | photos+videos
    thresholds: Thresholds = field(default_factory=Thresholds)
    check_admins: bool = True
    keep_photos: bool = False
    daily_limit: int = 3  # refusals in a day that pause a person; 0: never paused
    admins: frozenset[str] = frozenset()  # "telegram:123" keys: who is told of a pause

    @property
    def photos(self) -> bool:
        return self.mode != "off"

    @property
    def videos(self) -> bool:
        return self.mode == "photos+videos"


class Moderation:
    def __init__(self, policy: ModerationPolicy, store: Store, outputs: Outputs,
                 checker: PhotoChecker | None, tell: Tell,
                 period_start: Callable[[], float]) -> None:
        self.policy = policy
        self.store = store
        self.outputs = outputs
        self.checker = checker
        self.tell = tell
        self.period_start = period_start  # the daily reset the quotas use
        # Photos wait for the classifier in a line of their own: a burst of them must not
        # hold every thread of the loop's default pool (the store's files, the header checks).
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="moderation")

    async def start(self) -> None:
        """Load the classifier now (off the event loop) when photos are checked, so that a
        missing model is said at start; raises what the classifier raised."""
        if self.policy.photos and self.checker is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self.checker.load)
            log.info("moderation %s with %s, refusing at %s", self.policy.mode,
                     self.checker.describe(), self.policy.thresholds.describe())

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)

    def applies(self, role: Role) -> bool:
        return role is not Role.ADMIN or self.policy.check_admins

    def video_thresholds(self, role: Role) -> Thresholds | None:
        """What the worker checks a video of someone with this role against; None: not
        checked."""
        return self.policy.thresholds if self.policy.videos and self.applies(role) else None

    async def check_paused(self, user: User) -> None:
        if self.policy.photos and await self.paused(user):
            raise UserError(PAUSED)

    async def paused(self, user: User) -> bool:
        if not self.policy.daily_limit or user.role is Role.ADMIN:
            return False
        return await self.store.user_refusals(user.id, self.period_start()) \
            >= self.policy.daily_limit

    async def check_photo(self, user: User, photo: bytes) -> None:
        """Refuse the photo (a UserError) when the classifier does, after recording it."""
        if not self.policy.photos or not self.applies(user.role):
            return
        if self.checker is None:
            raise UserError(UNAVAILABLE)
        try:
            verdict = await asyncio.get_running_loop().run_in_executor(
                self._thread, self.checker.check_photo, photo, self.policy.thresholds)
        except Rejected:  # the photo itself is bad: its own message
            raise
        except Exception:
            log.exception("user %s: the photo could not be checked; refused", user.key)
            raise UserError(UNAVAILABLE) from None
        if verdict.refused:
            await self._refused(user, verdict, photo)
            raise UserError(REFUSED)
        log.debug("user %s: photo passed moderation (%s)", user.key, verdict.scores)

    async def video_refused(self, job: Job, verdict: Verdict) -> None:
        """Record a video its worker refused (the lifecycle fails the job and refunds)."""
        user = await self.store.get_user(job.user_id)
        assert user is not None
        try:  # the photo it was made from; an extension's is the frame its worker took
            photo: bytes | None = await asyncio.to_thread(job.input_path.read_bytes)
        except OSError:
            photo = None
        await self._refused(user, verdict, photo, job_id=job.id)

    async def _refused(self, user: User, verdict: Verdict, photo: bytes | None,
                       job_id: str | None = None) -> None:
        sha = hashlib.sha256(photo).hexdigest() if photo is not None else None
        kept = None
        if self.policy.keep_photos and photo is not None and sha is not None:
            kept = await asyncio.to_thread(self.outputs.keep_refused, sha, photo)
        since = self.period_start()
        count = await self.store.add_refusal(
            user.id, verdict.check, verdict.refused_by or "", dict(verdict.scores),
            photo_sha256=sha, job_id=job_id, kept_path=kept, since=since)
        log.warning("user %s: %s refused by moderation (%s %.3f)%s; %d today", user.key,
                    verdict.check, verdict.refused_by, verdict.score,
                    f" job {job_id}" if job_id else "", count)
        if self.policy.daily_limit and count == self.policy.daily_limit \
                and user.role is not Role.ADMIN:
            await self._tell_admins(user, count)

    async def _tell_admins(self, user: User, count: int) -> None:
        told = []
        for key in sorted(self.policy.admins):
            platform, _, ident = key.partition(":")
            admin = await self.store.find_user(platform, ident)
            lang = language(admin.language if admin else None)
            message = text("moderation_alert", lang, user=user.label, count=count,
                           who=user.key)
            if self.tell(key, message):
                told.append(key)
        log.warning("user %s: paused until the daily reset after %d moderation refusals; "
                    "admins told: %s", user.key, count, ", ".join(told) or "none reachable")

    # What the admins see

    async def recent(self, limit: int = 10, user: User | None = None) -> list[Refusal]:
        return await self.store.refusals(limit, None if user is None else user.id)

    async def today(self) -> tuple[dict[str, int], int]:
        """Today's refusals by check, and how many people are paused."""
        since = self.period_start()
        paused = await self.store.users_refused(since, self.policy.daily_limit) \
            if self.policy.daily_limit else 0
        return await self.store.refusals_by_kind(since), paused

    async def lift(self, user: User) -> int:
        """End a person's pause for today: their refusals so far stop counting."""
        return await self.store.lift_refusals(user.id, self.period_start())
