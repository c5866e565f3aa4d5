"""A message's topic verdict for its group: the fitted judgement turned into off-topic or not.

Worked out once per message (agent.view) and read by both routes that care: the answer route leaves
an off-topic question to the theme route, which nudges on the same verdict.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from agent.bounds import head_and_tail
from agent.events import Message
from agent.settings import GroupConfig
from agent.theme.glue import content
from agent.theme.judge import ThemeJudge, cutoff, recent_texts

SHORT_REPLY = 25  # characters of content: a reply this short takes the topic of the talk it answers
# a message's topic is judged on its head and tail, this many characters: the judge cuts words from all
# it is given (0.4 s for a 4,000-character message and the talk before it), and a topic shows early
THEME_CHARS = 400


@dataclass(frozen=True)
class Topic:
    probability: float  # of being off-topic, from the fitted judge (message and the talk before it)
    lean: float  # > 0: nearer chatter than the group's world (shown in logs)
    offtopic: bool  # the verdict: off-topic by itself, or a short reply taking its off-topic talk's topic
    inherited: bool  # off-topic only because it answers off-topic talk

    def detail(self) -> dict:
        return {"offtopic_score": round(self.probability, 3), "lean": round(self.lean, 3)}


def judged(text: str, before: list[str]) -> tuple[str, list[str]]:
    """The message and the talk before it as the theme judge reads them (both bounded)."""
    return head_and_tail(text, THEME_CHARS), [head_and_tail(t, THEME_CHARS) for t in before]


def topic(judge: ThemeJudge, message: Message, group: GroupConfig, recent: deque, in_drift: bool) -> Topic:
    """`in_drift`: the message moments after off-topic talk (agent.theme.policy.follows_drift)."""
    policy = group.theme_policy
    j = judge.judge(*judged(message.text, recent_texts(message.ts, recent)))
    if j.probability >= cutoff(policy.margin):
        return Topic(j.probability, j.lean, True, False)
    reply = j.probability >= cutoff(policy.reply_margin) and len(content(message.text)) <= SHORT_REPLY
    inherited = reply and in_drift
    return Topic(j.probability, j.lean, inherited, inherited)
