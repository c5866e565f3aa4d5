"""Verdicts on loose texts as the pipeline would judge them from a plain member of a group.

The code path behind `steward moderate` and bench/bench_moderation_public.py: each text becomes a
member message and goes through ModerationRoute.find (flood counter, exact checks, classifier; no
LLM), then the group's articles. By default every text is a different member's first message, so
texts are judged independently; `one_sender` replays them as one member's messages in a row, one a
minute, which is what lets the flood counter speak.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from agent.events import Member, Message, Role
from agent.mentions import MentionParser
from agent.moderation import classifier
from agent.moderation.articles import article_for
from agent.pipeline import Context, Services
from agent.routes.moderation import ModerationRoute
from agent.settings import GroupConfig, Settings
from agent.store import Store

_START = datetime(2025, 1, 1, 9, 0)


def verdicts(texts: Iterable[str], group: GroupConfig, one_sender: bool = False) -> Iterator[dict]:
    """Per text {"kind", "score", "article"}: kind None when nothing is wrong, score the finding's
    confidence (or, for None, the classifier's highest violation probability), article 1-based or None."""
    store = Store(":memory:")
    ctx = Context(group=group, services=Services(settings=Settings(groups={group.id: group}), store=store, kb=None,
                                                 prompts=None, llm=None), recent=deque(maxlen=12))
    route, mentions = ModerationRoute(), MentionParser(group)
    try:
        for i, text in enumerate(texts):
            ids, to_bot = mentions.parse(text)
            sender = Member("member" if one_sender else f"member-{i}", role=Role.MEMBER)
            message = Message(f"line-{i}", group.id, sender, text, _START + timedelta(minutes=i), mentions=ids,
                              to_bot=to_bot)
            finding, _ = route.find(message, ctx)
            if finding is None:
                scores = classifier.shipped().scores(text)
                yield {"kind": None, "score": round(max(scores[k] for k in classifier.CLASSES[1:]), 4), "article": None}
                continue
            numbered = article_for(finding, group)
            yield {"kind": finding.kind, "score": round(finding.confidence, 4), "article": numbered[0] if numbered else None}
    finally:
        store.close()
