"""An in-process channel: push a member's text, read what the bot did. Backs `steward chat`,
`steward demo` and tests, through the same pipeline a WeChat group gets."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.channels.base import scrub
from agent.events import Decision, Kind, Member, Message
from agent.mentions import MentionParser
from agent.pipeline import Pipeline
from agent.settings import GroupConfig


@dataclass
class MemoryChannel:
    pipeline: Pipeline
    group: GroupConfig
    clock: datetime | None = None  # fixed start time (demo, tests); None = wall clock
    step: timedelta = timedelta(minutes=1)
    outbox: list = field(default_factory=list)  # every action, in order

    def __post_init__(self):
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]  # ids unique across runs: the store remembers seen ids
        self._mentions = MentionParser(self.group)

    def _now(self) -> datetime:
        if self.clock is None:
            return datetime.now().astimezone()
        now, self.clock = self.clock, self.clock + self.step
        return now

    def send(self, sender_id: str, text: str, kind: Kind = Kind.TEXT) -> Decision | None:
        """One message from `sender_id` into the group; returns the bot's Decision."""
        text = scrub(text)
        mentions, to_bot = self._mentions.parse(text)
        msg = Message(id=f"mem-{self._run}-{next(self._ids)}", group_id=self.group.id, sender=Member(sender_id, self.group.name_of(sender_id)),
                      text=text, ts=self._now(), kind=kind, mentions=mentions, to_bot=to_bot)
        decision = self.pipeline.dispatch(msg)
        if decision is not None:
            self.outbox.extend(decision.actions)
        return decision

    def join(self, member_id: str, name: str = "") -> list:
        actions = self.pipeline.on_join(self.group.id, Member(member_id, name or member_id), self._now())
        self.outbox.extend(actions)
        return actions
