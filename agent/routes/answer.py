"""Questions the bot should take: answer from the knowledge with sources, or say honestly it does not
know (and record the gap for the owners). Chatter and peer polls pass on to the theme route."""
from __future__ import annotations

import logging
from datetime import timedelta

from agent.answering.confidence import score
from agent.answering.questions import clean, focus, shape
from agent.events import Decision, DecisionKind, Kind, Message, Say, Source
from agent.pipeline import Context
from agent.theme.glue import is_glue

log = logging.getLogger(__name__)


class AnswerRoute:
    name = "answer"

    def __init__(self, theme_judges=None, writer=None):
        self.theme_judges = theme_judges  # group id -> ThemeJudge: an off-topic question is the theme's
        self.writer = writer  # optional LLM answer writer; None = quote the knowledge

    def match(self, message: Message, ctx: Context) -> bool:
        if message.kind != Kind.TEXT or is_glue(message):
            return False
        q = shape(message.text)
        return message.to_bot or (q.is_question and not q.opinion)

    def handle(self, message: Message, ctx: Context) -> Decision | None:
        question, asking = clean(message.text), focus(message.text)
        q = shape(message.text)
        retrieval = ctx.services.settings.retrieval
        hits = ctx.services.kb.search(question, [ctx.group.id, "shared"], k=retrieval.top_k)
        # the fused top-1 is not always the passage that holds the answer: judge the top three
        candidates = sorted((score(question, asking, h, hits, retrieval.max_sentences) for h in hits[:3]),
                            key=lambda c: c.confidence, reverse=True)
        best = candidates[0] if candidates else None
        conf = best.confidence if best else 0.0
        detail = {"candidates": [(c.hit.file, c.hit.heading, round(c.confidence, 3), c.gated) for c in candidates]}
        if best is not None and conf >= retrieval.answer_threshold and (message.to_bot or ctx.group.answer.unprompted):
            return self._answer(message, ctx, best, detail)
        if not message.to_bot and (self._in_drift(message, ctx) or self._offtopic(message, ctx)):
            return None  # an off-topic question, or one inside off-topic talk: the theme route's to judge
        if not (q.seeks_fact or message.to_bot):
            return None
        return self._unknown(message, ctx, question, conf, detail)

    def _offtopic(self, message: Message, ctx: Context) -> bool:
        if self.theme_judges is None:
            return False
        return self.theme_judges(ctx.group.id).judge(message.text).score > ctx.group.theme_policy.margin

    @staticmethod
    def _in_drift(message: Message, ctx: Context) -> bool:
        """The previous message, moments ago, was off-topic chatter: an unanswerable question now
        most likely continues it ("是真的吗") rather than asks the knowledge."""
        if not ctx.recent:
            return False
        prev, decision = ctx.recent[-1]
        window = timedelta(minutes=ctx.group.theme_policy.reply_minutes)
        return decision.kind == DecisionKind.NUDGE and message.ts - prev.ts <= window

    def _answer(self, message, ctx, best, detail) -> Decision:
        hit, text, conf = best.hit, best.extract.text, best.confidence
        source = Source(hit.file, hit.heading, round(conf, 3))
        text = text.rstrip("；;")
        body = text + ("" if text.endswith(("。", "！", "？", ".", "!", "?")) else "。")
        reply = ctx.sentence("answer", answer=body, source=source.cite())
        return Decision(DecisionKind.ANSWER, message.id, self.name, confidence=conf, sources=[source],
                        actions=[Say(ctx.group.id, reply, (message.sender.id,))], detail=detail)

    def _unknown(self, message, ctx, question, conf, detail) -> Decision:
        ctx.services.store.add_gap(ctx.group.id, message.sender.id, message.id, question, message.to_bot, message.ts)
        actions = []
        if message.to_bot and ctx.group.answer.unknown_reply_when_addressed:
            actions.append(Say(ctx.group.id, ctx.sentence("unknown", bot=ctx.group.bot_name), (message.sender.id,)))
        return Decision(DecisionKind.UNKNOWN, message.id, self.name, confidence=conf, actions=actions, detail=detail)
