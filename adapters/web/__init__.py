"""The web page: a third adapter on the same core as Telegram and Discord."""

from adapters.web.adapter import WebAdapter

__all__ = ["WebAdapter"]
