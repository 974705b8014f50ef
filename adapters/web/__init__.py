"""The web page: a third adapter on the same core as Telegram and Discord."""

from adapters.web.adapter import WebAdapter
from adapters.web.config import WebConfig

__all__ = ["WebAdapter", "WebConfig"]
