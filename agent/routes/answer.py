"""Questions the bot should take: answer from the knowledge with sources, or say honestly it does not
know (and record the gap for the owners). The route takes a message only when it will decide it:
chatter, peer polls and off-topic questions are the theme route's, read from the same verdicts."""
from __future__ import annotations

import logging
from datetime import timedelta

from agent.answering.compose import closed, rarity
from agent.answering.confidence import TIE, judge
from agent.answering.questions import clean, focus, shape
from agent.gap_notes import tells_owners
from agent.kb.tokenize import content_tokens
from agent.moderation import is_paused
from agent.events import Decision, DecisionKind, Kind, Message, Say, Source
from agent.pipeline import Context
from agent.view import MessageView

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
        """Addressed to the bot; or a question the knowledge answers confidently (when the group
        lets the bot answer unprompted); or an on-topic factual question, which at worst is a gap.
        Decided without the model: the model is asked only about questions this route owns."""
        if not self.asks(message, ctx):
            return False
        if message.to_bot:
            return True
        if message.sender.is_staff:
            return False  # an owner's question in the group is for the members, not the bot
        view = ctx.view_of(message)
        if ctx.group.answer.unprompted and self._confidence(view, ctx) >= self._threshold(ctx):
            return True
        if message.mentions:
            return False  # asked of the member it @-mentions: the bot steps in only when it knows
        return view.question.seeks_fact and not self._offtopic(view, ctx)

    def asks(self, message: Message, ctx: Context) -> bool:
        """The message asks the bot something, by its form alone: addressed to it, or a question
        that is not a poll of peers (what answerability is calibrated on)."""
        view = ctx.view_of(message)
        if message.kind != Kind.TEXT or view.glue:
            return False
        if is_paused(ctx.services.store, ctx.group.id, message.sender.id, message.ts):
            return False  # the moderation ladder put this member on a break from the bot
        return message.to_bot or (view.question.is_question and not view.question.opinion)

    def handle(self, message: Message, ctx: Context) -> Decision:
        view = ctx.view_of(message)
        candidates = self._found(view, ctx)
        conf = candidates[0].confidence if candidates else 0.0
        detail = {"candidates": [(c.hit.file, c.hit.heading, round(c.confidence, 3), c.gated) for c in candidates]}
        may_speak = message.to_bot or ctx.group.answer.unprompted
        written = self._written(message, ctx, candidates) if may_speak else None
        usage = {"llm_calls": 1, "llm_tokens": written.tokens} if written else {}
        if written and written.text:
            return self._answer(message, ctx, written.used, written.text, conf, detail, usage, quoted=False)
        # "don't know" is retrieval's call, not the model's: small models refuse too readily, so a
        # confident passage is quoted even when the model said NO_ANSWER or wrote something refused;
        # below the threshold the model's NO_ANSWER stands
        if conf >= self._threshold(ctx) and may_speak:
            used = [candidates[0], *(c for c in candidates[1:2] if conf - c.confidence <= TIE
                                     and c.extract.text and c.extract.text != candidates[0].extract.text)]
            text = "\n".join(c.extract.text for c in used)
            return self._answer(message, ctx, used, text, conf, detail, usage, quoted=True)
        return self._unknown(message, ctx, conf, detail, usage)

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

    def _found(self, view: MessageView, ctx: Context) -> list:
        """The message's candidates, judged once. A follow-up ("那咋整", "算低吗") may only make sense
        with the member's question before it: asked again with it when that finds more."""
        def find() -> list:
            text = view.message.text
            found = self.candidates(text, ctx)
            conf = found[0].confidence if found else 0.0
            earlier = self._earlier_question(view.message, ctx)
            if earlier and conf < self._threshold(ctx) and len(content_tokens(focus(text))) <= FOLLOW_UP_WORDS:
                again = self.candidates(f"{earlier} {text}", ctx)
                if again and again[0].confidence > conf:
                    return again
            return found
        return view.candidates(find)

    def _confidence(self, view: MessageView, ctx: Context) -> float:
        found = self._found(view, ctx)
        return found[0].confidence if found else 0.0

    @staticmethod
    def _threshold(ctx: Context) -> float:
        return ctx.services.settings.retrieval.answer_threshold

    def _offtopic(self, view: MessageView, ctx: Context) -> bool:
        """Off-topic by the topic verdict the theme route also reads, or asked inside off-topic talk."""
        if view.in_drift:
            return True
        return self.theme_judges is not None and view.topic(self.theme_judges(ctx.group.id)).offtopic

    @staticmethod
    def _record_gap(message: Message, ctx: Context) -> None:
        """The question goes to the owners' open questions (/gaps, the gap notes)."""
        ctx.services.store.add_gap(ctx.group.id, message.sender.id, message.id, clean(message.text), message.to_bot,
                                   message.ts)

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

    def _answer(self, message, ctx, used, text, conf, detail, usage, quoted: bool) -> Decision:
        """Quoted (no-LLM): the passage's own sentences plus the citation line. Written: the model's
        reply, which cites its sources itself; the Decision lists them either way."""
        sources = [Source(c.hit.file, c.hit.heading, round(c.confidence, 3)) for c in used]
        if quoted:
            body = closed(text)
            said = "answer"
            if conf < ctx.services.settings.retrieval.unsure_below:  # a near miss: the owners get to check
                self._record_gap(message, ctx)
                said = "answer_unsure" if tells_owners(ctx.group) else "answer_unsure_kept"
                detail = {**detail, "unsure": True}
            cited = ctx.sentence("sources_joined").join(dict.fromkeys(src.cite() for src in sources))
            text = ctx.sentence(said, answer=body, source=cited)
        return Decision(DecisionKind.ANSWER, message.id, self.name, confidence=conf, sources=sources,
                        actions=[Say(ctx.group.id, text, (message.sender.id,))], detail=detail, **usage)

    def _unknown(self, message, ctx, conf, detail, usage) -> Decision:
        self._record_gap(message, ctx)
        actions = []
        if message.to_bot and ctx.group.answer.unknown_reply_when_addressed:
            said = "unknown" if tells_owners(ctx.group) else "unknown_kept"  # "passed to the owners" only if it is
            actions.append(Say(ctx.group.id, ctx.sentence(said, bot=ctx.group.bot_name), (message.sender.id,)))
        return Decision(DecisionKind.UNKNOWN, message.id, self.name, confidence=conf, actions=actions,
                        detail=detail, **usage)
