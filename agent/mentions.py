"""Mentions typed as plain text ("@林岚 …"), as simulators and the eval's chat logs carry them.

Real channels resolve mentions to contact ids themselves; text-only sources need this parser.
"""
from __future__ import annotations


from agent import patterns
from agent.settings import GroupConfig


class MentionParser:
    """Turns '@display name' in plain text into contact ids, longest name first. When the bot's own
    name is not known (`guess_bot`), a mention of a name that is nobody in the group is taken as
    addressed to the bot; otherwise it is a member known by another name (members rename themselves)."""

    def __init__(self, group: GroupConfig, guess_bot: bool = False):
        people = [*group.owners, *group.admins, *group.members]
        self.names = sorted(((p.name, p.id) for p in people if p.name), key=lambda x: -len(x[0]))
        self.bot = group.bot_name
        self.guess_bot = guess_bot

    def parse(self, text: str) -> tuple[tuple[str, ...], bool]:
        ids, to_bot = [], False
        for at in patterns.finditer(r"@", text):
            rest = text[at.end():]
            if self.bot and rest.startswith(self.bot):
                to_bot = True
                continue
            for name, cid in self.names:
                if rest.startswith(name):
                    ids.append(cid)
                    break
            else:
                if self.guess_bot and patterns.match(r"[^\s@]{1,16}", rest):
                    to_bot = True
        return tuple(ids), to_bot
