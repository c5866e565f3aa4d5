"""The LLM-written answer: the model rephrases the retrieved passages, or says NO_ANSWER.

Retrieval still decides whether the model is asked at all (no call for chatter or hopeless
questions); the model then decides between an answer and "don't know", and the guard checks what it
wrote against the passages it cites. Any failure (outage, the message's reply deadline, budget, a
reply the guard refuses) leaves the caller to take the no-LLM path, so a model problem can never
silence, stall or speak through the bot.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.llm import tokens
from agent.llm.budget import Budget
from agent.llm.grounding import Passage
from agent.llm.guard import as_data, check_answer
from agent.llm.errors import LLMUnavailable

if TYPE_CHECKING:  # the provider pulls in the OpenAI client (40 MB): loaded only when a model is configured
    from agent.llm.provider import LLM

log = logging.getLogger(__name__)
NO_ANSWER = "NO_ANSWER"


@dataclass(frozen=True)
class Written:
    text: str | None  # None: the model found no answer in the passages
    used: list  # the candidates whose passages it cites (refused: those it was given)
    tokens: int


class AnswerWriter:
    def __init__(self, llm: LLM, budget: Budget, settings):
        self.llm, self.budget, self.settings = llm, budget, settings  # settings: LLMSettings

    def write(self, ctx, message, candidates: list) -> Written | None:
        s, group = self.settings, ctx.group
        system = ctx.sentence("answer_system", bot=group.bot_name, group=group.name or group.id, theme=group.theme)
        question = as_data(message.text)
        estimate = tokens.count(system, s.encoding) + tokens.count(question, s.encoding) + s.context_tokens + s.reply_tokens
        grant = self.budget.allow(group.id, message.sender.id, estimate)
        if grant == "none":
            log.info("llm budget spent for %s/%s: no-LLM answer", group.id, message.sender.id)
            return None
        entries = [as_data(f"[{c.hit.file}] {c.hit.heading}\n{c.hit.text}") for c in candidates]
        room = s.context_tokens if grant == "full" else s.context_tokens // 2
        packed = tokens.pack(entries, room, s.encoding)
        context = "\n\n".join(packed)
        user = ctx.sentence("answer_user", question=question, context=context)
        try:
            done = self.llm.complete(system, user, s.reply_tokens)
        except LLMUnavailable as exc:
            log.warning("model unavailable, answering without it: %s", exc)
            return None
        used_tokens = done.prompt_tokens + done.completion_tokens
        self.budget.spend(group.id, message.sender.id, used_tokens)
        used = candidates[: len(packed)]
        if NO_ANSWER in done.text:
            return Written(None, used, used_tokens)
        passages = [Passage(c.hit.file, c.hit.heading, c.hit.text) for c in used]
        instructions = system + "\n" + ctx.sentence("answer_user", question="", context="")
        verdict = check_answer(done.text, passages, instructions, message.text, s.reply_chars)
        if verdict.text is None:
            log.warning("model reply refused by the guard (%s); answering without it", verdict.reason)
            return Written("", used, used_tokens)  # "" = spent, but unusable: fall back
        cited = [c for c in used if any(p.file == c.hit.file for p in verdict.cited)]
        return Written(verdict.text, cited, used_tokens)
