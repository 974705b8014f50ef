"""The page's limits per client address, and the tally its refusals are logged by."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.web.access import Network
from adapters.web.config import WebConfig
from adapters.web.tally import Tally
from bot.rates import RateLimit

DAY_S = 86400
GUESS_WINDOW_S = 15 * 60


@dataclass
class Guards:
    """Built once per server from its settings section."""

    config: WebConfig
    trusted: tuple[Network, ...]
    refusals: Tally = field(default_factory=Tally)
    new_sessions: RateLimit = field(init=False)
    submits: RateLimit = field(init=False)
    guesses: RateLimit = field(init=False)

    def __post_init__(self) -> None:
        self.new_sessions = RateLimit(self.config.new_sessions_per_day, DAY_S, "web-sessions")
        self.submits = RateLimit(self.config.submits_per_minute, 60, "web-submits")
        self.guesses = RateLimit(self.config.login_attempts, GUESS_WINDOW_S, "web-guesses")

    @property
    def local_only(self) -> bool:
        return self.config.password is None
