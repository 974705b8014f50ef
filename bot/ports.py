"""What the core offers the adapters: the only two interfaces they are given.

Each adapter (Telegram, Discord, the web page, the terminal) receives a `CorePort` and an
`AdminPort` and its own settings section; never the composition root, the store, the
lifecycle or the global settings. `bot.service.Core` and `bot.admin.AdminCommands` are the
implementations; mypy checks that they keep to these shapes where the root passes them in.

The other way round, a platform that takes payments gives the core a `Refunder`
(`bot.payments`), which the composition root connects, as it registers each adapter's
notifier with the event bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.models import ChatRef, Job, JobRequest, Person, User
from bot.payments import Charge, Pack, Purchase, Refunder
from bot.quotas import Balance
from bot.service import QueueView
from engine.spec.work import Video


class CorePort(Protocol):
    """Submit and cancel jobs, look up places and balances, report deliveries."""

    @property
    def models(self) -> tuple[str, ...]:
        """The video models offered here; the first is the default."""
        ...

    @property
    def default_preset(self) -> str: ...

    @property
    def starting(self) -> bool:
        """True while the bot cannot take jobs yet (its model loads): submissions are
        refused, saying so."""
        ...

    async def user(self, person: Person) -> User:
        """The person as the bot knows them (created on first contact)."""
        ...

    def check_caption(self, caption: str | None, *, preset: str | None = None,
                      overrides: Mapping[str, Any] | None = None) -> None:
        """Refuse a caption, its flags and typed options before anything is downloaded."""
        ...

    async def submit(self, request: JobRequest) -> Job: ...

    async def cancel(self, person: Person, job_id: str | None = None) -> Job: ...

    async def own_job(self, person: Person, job_id: str) -> Job:
        """One of the person's jobs; refuses another's."""
        ...

    async def again(self, person: Person, job_id: str, *, better: bool,
                    chat: ChatRef | None = None) -> Job: ...

    async def extend(self, person: Person, job_id: str, caption: str | None = None,
                     chat: ChatRef | None = None) -> Job: ...

    async def result_of(self, job: Job) -> Video | None:
        """A finished job's video from its files; None when they are gone."""
        ...

    async def delivered(self, job_id: str) -> None: ...

    async def undeliverable(self, job_id: str, reason: str) -> None: ...

    async def balance(self, person: Person) -> Balance: ...

    async def history(self, person: Person, limit: int = 10) -> list[Job]: ...

    async def queue_view(self, person: Person) -> QueueView: ...

    async def set_default_preset(self, person: Person, name: str) -> User: ...

    @property
    def packs(self) -> tuple[Pack, ...]:
        """The credit packs on sale (Telegram Stars); empty: nothing is sold."""
        ...

    async def check_checkout(self, person: Person, payload: str, currency: str,
                             amount: int) -> Pack:
        """The pack a checkout buys; a UserError when it must be refused."""
        ...

    async def purchase(self, person: Person, charge: Charge) -> Purchase:
        """Credit a confirmed payment exactly once (a repeat credits nothing more)."""
        ...


class AdminPort(Protocol):
    """The admin verbs, the same on every platform (each checks the actor again)."""

    async def is_admin(self, person: Person) -> bool: ...

    async def run(self, actor: Person, verb: str, args: list[str],
                  replied: Person | None = None, named: Person | None = None) -> str:
        """`replied`: the person of a replied-to message, used when no argument names one;
        `named`: a person the platform picked (a user option), taken as the first argument."""
        ...


__all__ = ["AdminPort", "CorePort", "Refunder"]
