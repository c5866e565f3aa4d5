"""Questions the bot should take: answer from the knowledge with sources, or say honestly it does not
know (and record the gap for the owners). Chatter and peer polls pass on to the theme route."""
from __future__ import annotations

import logging
from datetime import timedelta

from agent.answering.compose import rarity
from agent.answering.confidence import judge
from agent.answering.questions import clean, focus, shape
from agent.gap_notes import tells_owners
from agent.kb.tokenize import content_tokens
from agent.moderation import is_muted
from agent.events import Decision, DecisionKind, Kind, Message, Say, Source
from agent.pipeline import Context
from agent.theme.glue import is_glue
from agent.routes.theme import judged
from agent.theme.judge import recent_texts
from agent.theme.policy import follows_drift

log = logging.getLogger(__name__)
FOLLOW_UP_WORDS = 3  # a question with more content words of its own stands alone
CONSIDERED = 3  # passages judged per question: the fused top-1 does not always hold the answer


class AnswerRoute:
    name = "answer"

    def __init__(self, theme_judges=None, writer=None):
        self.theme_judges = theme_judges  # group id -> ThemeJudge: an off-topic question is the theme's
        self.writer = writer  # AnswerWriter when a model is configured; None = quote the knowledge

    def warm(self) -> None:
        """Load the word statistics used for coverage and the question cues before the first
        question arrives."""
        rarity("问题")
        shape("预热一下可以吗？")

    def match(self, message: Message, ctx: Context) -> bool:
        if message.kind != Kind.TEXT or is_glue(message):
            return False
        if is_muted(ctx.services.store, ctx.group.id, message.sender.id, message.ts):
            return False  # the moderation ladder put this member on a break from the bot
        q = shape(message.text)
        return message.to_bot or (q.is_question and not q.opinion)

    def handle(self, message: Message, ctx: Context) -> Decision | None:
        q = shape(message.text)
        threshold = ctx.services.settings.retrieval.answer_threshold
        candidates = self.candidates(message.text, ctx)
        conf = candidates[0].confidence if candidates else 0.0
        earlier = self._earlier_question(message, ctx)
        if earlier and conf < threshold and len(content_tokens(focus(message.text))) <= FOLLOW_UP_WORDS:
            # a follow-up ("那咋整", "算低吗") may only make sense with the member's question before it
            again = self.candidates(f"{earlier} {message.text}", ctx)
            if again and again[0].confidence > conf:
                candidates, conf = again, again[0].confidence
        detail = {"candidates": [(c.hit.file, c.hit.heading, round(c.confidence, 3), c.gated) for c in candidates]}
        may_speak = message.to_bot or ctx.group.answer.unprompted
        written = self._written(message, ctx, candidates) if may_speak else None
        usage = {"llm_calls": 1, "llm_tokens": written.tokens} if written else {}
        if written and written.text:
            return self._answer(message, ctx, written.used, written.text, conf, detail, usage, quoted=False)
        # "don't know" is retrieval's call, not the model's: small models refuse too readily, so a
        # confident passage is quoted even when the model said NO_ANSWER or wrote something refused;
        # below the threshold the model's NO_ANSWER stands
        if conf >= threshold and may_speak:
            best = candidates[0]
            return self._answer(message, ctx, [best], best.extract.text, conf, detail, usage, quoted=True)
        if not message.to_bot and (follows_drift(message, ctx.group, ctx.recent) or self._offtopic(message, ctx)):
            return None  # an off-topic question, or one inside off-topic talk: the theme route's to judge
        if not (q.seeks_fact or message.to_bot):
            return None
        return self._unknown(message, ctx, clean(message.text), conf, detail, usage)

    def candidates(self, text: str, ctx: Context) -> list:
        """The top passages for `text`, each with the model's confidence, most confident first. A
        passage up to the chunk size is quoted whole: cutting it loses the condition or the number
        beside the sentence that matched."""
        settings = ctx.services.settings
        hits = ctx.services.kb.search(clean(text), [ctx.group.id, "shared"], k=settings.retrieval.top_k)
        judge_theme = self.theme_judges(ctx.group.id) if self.theme_judges else None
        similarity = (lambda h: judge_theme.theme_similarity(h.id, h.text)) if judge_theme else (lambda h: 0.0)
        return judge(clean(text), focus(text), hits, CONSIDERED, settings.retrieval.max_sentences,
                     settings.kb.chunk_size, similarity)

    @staticmethod
    def _earlier_question(message: Message, ctx: Context) -> str | None:
        """The same member's question of a few minutes ago, if that is what they last said."""
        window = timedelta(minutes=ctx.group.theme_policy.reply_minutes)
        for prev, decision in reversed(ctx.recent):
            if message.ts - prev.ts > window:
                return None
            if prev.sender.id == message.sender.id:
                return prev.text if decision.kind in (DecisionKind.ANSWER, DecisionKind.UNKNOWN) else None
        return None

    def _written(self, message, ctx, candidates):
        """The model's answer when a model is configured and retrieval found something worth asking
        about; None means: decide without the model."""
        if self.writer is None or not candidates:
            return None
        worth = [c for c in candidates if c.confidence >= ctx.services.settings.llm.consult_threshold]
        return self.writer.write(ctx, message, worth) if worth else None

    def _offtopic(self, message: Message, ctx: Context) -> bool:
        if self.theme_judges is None:
            return False
        # the message and the talk just before it, as the theme route weighs them
        text, before = judged(message.text, recent_texts(message.ts, ctx.recent))
        return self.theme_judges(ctx.group.id).is_offtopic(text, before, ctx.group.theme_policy.margin)

    def _answer(self, message, ctx, used, text, conf, detail, usage, quoted: bool) -> Decision:
        """Quoted (no-LLM): the passage's own sentences plus the citation line. Written: the model's
        reply, which cites its sources itself; the Decision lists them either way."""
        sources = [Source(c.hit.file, c.hit.heading, round(c.confidence, 3)) for c in used]
        if quoted:
            text = text.rstrip("；;")
            body = text + ("" if text.endswith(("。", "！", "？", ".", "!", "?")) else "。")
            text = ctx.sentence("answer", answer=body, source=sources[0].cite())
        return Decision(DecisionKind.ANSWER, message.id, self.name, confidence=conf, sources=sources,
                        actions=[Say(ctx.group.id, text, (message.sender.id,))], detail=detail, **usage)

    def _unknown(self, message, ctx, question, conf, detail, usage) -> Decision:
        ctx.services.store.add_gap(ctx.group.id, message.sender.id, message.id, question, message.to_bot, message.ts)
        actions = []
        if message.to_bot and ctx.group.answer.unknown_reply_when_addressed:
            said = "unknown" if tells_owners(ctx.group) else "unknown_kept"  # "passed to the owners" only if it is
            actions.append(Say(ctx.group.id, ctx.sentence(said, bot=ctx.group.bot_name), (message.sender.id,)))
        return Decision(DecisionKind.UNKNOWN, message.id, self.name, confidence=conf, actions=actions,
                        detail=detail, **usage)
