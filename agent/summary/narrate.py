"""The threads of a summary told in a sentence or two by the model, from the extracts alone.

Only the "what people talked about" part is given to the model: owners' words and the bot's answers
stay quoted as they were, because a paraphrase there could change a time, a price or a rule. The
model sees the thread extracts and nothing else (no history, no knowledge), one call per summary,
within the group's and the asker's token budget; what it writes passes the same guard as an answer
(no links, handles, numbers or claims its extracts do not hold). Any failure returns None and the
summary keeps its quoted lines.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from agent.llm import tokens
from agent.llm.budget import Budget
from agent.llm.errors import LLMUnavailable
from agent.llm.guard import as_data, check_reply

if TYPE_CHECKING:  # the provider pulls in the OpenAI client: loaded only when a model is configured
    from agent.llm.provider import LLM

log = logging.getLogger(__name__)


class Narrator:
    """`narrate(lines, …)`: the thread lines as prose, or None (the caller keeps the lines)."""

    def __init__(self, llm: LLM, budget: Budget, settings, prompts):
        self.llm, self.budget, self.settings, self.prompts = llm, budget, settings, prompts  # settings: LLMSettings

    def narrate(self, lines: list[str], *, lang: str, group_id: str, asker_id: str, max_chars: int) -> str | None:
        if not lines:
            return None
        s = self.settings
        system = self.prompts.render("summary_system", lang, max_chars=max_chars)
        extracts = as_data("\n".join(lines))
        user = self.prompts.render("summary_user", lang, extracts=extracts)
        estimate = tokens.count(system, s.encoding) + tokens.count(user, s.encoding) + s.reply_tokens
        if self.budget.allow(group_id, asker_id, estimate) != "full":
            log.info("llm budget spent for %s/%s: the summary keeps its quoted lines", group_id, asker_id)
            return None
        try:
            done = self.llm.complete(system, user, s.reply_tokens)
        except LLMUnavailable as exc:
            log.warning("model unavailable, summary without it: %s", exc)
            return None
        self.budget.spend(group_id, asker_id, done.prompt_tokens + done.completion_tokens)
        return check_reply(done.text, extracts, system, max_chars)
