"""What one message is, worked out at most once and shared by the routes that decide it.

The pipeline makes a view per message before routing. Routes read the message's question shape,
glue, topic verdict and answer candidates from it instead of each recomputing them, so the route that
takes a message and the one after it judge it the same way. Everything is lazy: a command or a
violation never pays for an embedding it does not need.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from agent.answering.questions import QuestionShape, clean, shape
from agent.events import Message
from agent.settings import GroupConfig
from agent.theme.glue import is_glue, is_reaction
from agent.theme.judge import ThemeJudge
from agent.theme.policy import follows_drift
from agent.theme.topic import Topic, topic

if TYPE_CHECKING:
    from agent.moderation.detectors import Finding


class MessageView:
    def __init__(self, message: Message, group: GroupConfig, recent: deque):
        self.message, self.group, self.recent = message, group, recent
        self._topic: Topic | None = None
        self._candidates: list | None = None
        # the owner power a member's words reached for, refused and handed to moderation as a violation
        # (agent.routes.commands): the violation's record names the command it was dressed as
        self.refused_intent: str | None = None
        # and, when that request was to announce something where the rules forbid asking it, the finding
        self.refused_announcing: Finding | None = None

    @cached_property
    def asked(self) -> str:
        """The text without @mentions and emoji codes: what the member actually says."""
        return clean(self.message.text)

    @cached_property
    def question(self) -> QuestionShape:
        return shape(self.message.text)

    @cached_property
    def glue(self) -> bool:
        return is_glue(self.message)

    @cached_property
    def reaction(self) -> bool:
        return is_reaction(self.message)

    @cached_property
    def in_drift(self) -> bool:
        """Sent moments after off-topic talk: a reply or a passing question most likely continues it."""
        return follows_drift(self.message, self.group, self.recent)

    def topic(self, judge: ThemeJudge) -> Topic:
        """The topic verdict by `judge` (the group's, which the routes hold), judged once."""
        if self._topic is None:
            self._topic = topic(judge, self.message, self.group, self.recent, self.in_drift)
        return self._topic

    def candidates(self, find: Callable[[], list]) -> list:
        """The answer candidates (agent.answering.confidence.Candidate, most confident first),
        retrieved and judged once by `find`."""
        if self._candidates is None:
            self._candidates = find()
        return self._candidates
