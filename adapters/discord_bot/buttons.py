"""The buttons under status messages and videos.

Their custom_ids ("i2v:reroll:<job>") carry everything needed, so they keep working after a
restart: discord.py matches them against the template of a registered DynamicItem.
"""

from __future__ import annotations

import logging
import re

import discord

from bot.errors import UserError
from bot.texts import text

from . import jobs
from .client import I2VBot
from .replies import lang, person_of, private, refuse

log = logging.getLogger(__name__)

ACTIONS = {"reroll": ("button_reroll", discord.ButtonStyle.primary),
           "better": ("button_better", discord.ButtonStyle.success),
           "extend": ("button_extend", discord.ButtonStyle.secondary),
           "cancel": ("button_cancel", discord.ButtonStyle.danger)}


class JobButton(discord.ui.DynamicItem[discord.ui.Button],
                template=r"i2v:(?P<action>reroll|better|extend|cancel):(?P<job>[A-Za-z0-9_-]+)"):
    def __init__(self, action: str, job_id: str, lang_code: str = "en") -> None:
        key, style = ACTIONS[action]
        super().__init__(discord.ui.Button(label=text(key, lang_code), style=style,
                                           custom_id=f"i2v:{action}:{job_id}"))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item,
                             match: re.Match[str], /) -> JobButton:
        return cls(match["action"], match["job"], lang(interaction))

    async def callback(self, interaction: discord.Interaction) -> None:
        assert isinstance(interaction.client, I2VBot)  # the only client these are added to
        core = interaction.client.core
        try:
            if self.action == "cancel":
                job = await core.cancel(person_of(interaction), self.job_id)
                await private(interaction, text("cancelling", lang(interaction), job=job.id))
            elif self.action == "extend":
                await jobs.extend(core, interaction, self.job_id)
            else:
                await jobs.again(core, interaction, self.job_id, self.action == "better")
        except UserError as exc:
            if exc.key == "no_such_job":
                await private(interaction, text("not_yours", lang(interaction)))
            else:
                await refuse(interaction, exc)
        except Exception as exc:
            await refuse(interaction, exc)


def job_view(job_id: str, lang_code: str, *actions: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(JobButton(action, job_id, lang_code))
    return view
