"""The open questions as owners are shown them (/gaps, the digest, the report, the gap notes): a gap the
knowledge answers now, or that is plain chatter, is not work for an owner.

"Answers now" is the bot's own answerability: the answer route's candidates for the question, the
best one at or above the answer threshold and out of the unsure band (where the reply itself says it may
have missed, and the question is kept for the owners), exactly as a member asking it now would be answered.
Chatter is social glue ("哈哈哈？", "谢谢") or what the group's theme judge calls off-topic (gossip),
by the same judges the bot uses on messages.
"""
from __future__ import annotations

from collections import deque
from datetime import datetime, timezone

from agent.events import Member, Message
from agent.gaps import Gap
from agent.pipeline import Context, Services
from agent.settings import GroupConfig
from agent.theme.glue import is_glue


class Screen:
    """`keep(group, inbox)`: the gaps still worth an owner's answer."""

    def __init__(self, services: Services, answer_route, judges):
        self.services = services
        self.route = answer_route  # agent.routes.answer.AnswerRoute: its `candidates` is the answerability
        self.judges = judges  # group id -> ThemeJudge

    def answered(self, group: GroupConfig, question: str) -> bool:
        ctx = Context(group, self.services, deque())
        with self.services.kb.vocabulary(group.id):
            found = self.route.candidates(question, ctx)
        retrieval = self.services.settings.retrieval
        return bool(found) and found[0].confidence >= max(retrieval.answer_threshold, retrieval.unsure_below)

    def chatter(self, group: GroupConfig, question: str) -> bool:
        if is_glue(Message("gap", group.id, Member("", ""), question, datetime.now(timezone.utc))):
            return True
        with self.services.kb.vocabulary(group.id):
            return self.judges(group.id).is_offtopic(question, [], group.theme_policy.margin)

    def keep(self, group: GroupConfig, inbox: list[Gap]) -> list[Gap]:
        return [g for g in inbox if not (self.chatter(group, g.question) or self.answered(group, g.question))]


def screen_of(app) -> Screen:
    """The screen of a built agent.app.App, with its own answer route and theme judges."""
    from agent.routes.answer import AnswerRoute  # late: analytics readers need no answering

    route = next(r for r in app.pipeline.routes if isinstance(r, AnswerRoute))
    return Screen(app.pipeline.services, route, app.judges)
