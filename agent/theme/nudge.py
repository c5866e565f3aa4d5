"""The nudge itself: short, friendly, pointing back to the theme and, when it can, to something useful
(a question in the group that is still waiting for an answer).

Templates from prompts/ in no-LLM mode; with a model, a nudge written for the moment, accepted only if
it is short, link-free and free of scolding words, otherwise the template.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from agent import patterns
from agent.events import DecisionKind
from agent.llm.guard import as_data, check_reply
from agent.llm.errors import LLMUnavailable
from agent.quoting import asking_clause

log = logging.getLogger(__name__)

MAX_CHARS = 120
QUOTED_CHARS = 40  # of the open question the nudge repeats
OPEN_QUESTION_AGE = timedelta(hours=2)
# a nudge reminds, it never scolds: words of rule enforcement belong to moderation
_HARSH = patterns.compile(r"禁止|不许|不准|警告|违规|踢|移出|闭嘴|stop it|forbidden|warning|banned|kick", re.I)


def short_theme(theme: str) -> str:
    """The theme's headline: before the first colon or dash of a long theme line."""
    return patterns.split(r"[：:—-]", theme, maxsplit=1)[0].strip() or theme


def open_question(ctx, now) -> str | None:
    """An on-topic question asked recently that nobody (not even the knowledge) answered yet: its
    asking clause, quoted (agent.quoting), since the nudge repeats it in the group."""
    for prev, decision in reversed(ctx.recent):
        if now - prev.ts > OPEN_QUESTION_AGE:
            return None
        if decision.kind == DecisionKind.UNKNOWN:
            return asking_clause(prev.text, QUOTED_CHARS) or None
    return None


def compose(message, ctx) -> tuple[str, int, int]:
    """(text, llm calls, llm tokens)."""
    group = ctx.group
    theme = short_theme(group.theme)
    question = open_question(ctx, message.ts)
    template = ctx.sentence("nudge", theme=theme, bot=group.bot_name)
    if question:
        template += ctx.sentence("nudge_open_question", question=question)
    llm = ctx.services.llm
    if llm is None:
        return template, 0, 0
    recent = "\n".join(as_data(m.text[:60]) for m, d in list(ctx.recent)[-4:] if d.kind == DecisionKind.NUDGE)
    user = ctx.sentence("nudge_user", theme=group.theme, chatter=recent or as_data(message.text[:60]),
                        question=as_data(question or "-"), bot=group.bot_name)
    system = ctx.sentence("nudge_system", bot=group.bot_name)
    try:
        done = llm.complete(system, user, 120)
    except LLMUnavailable as exc:
        log.info("nudge from the template: model unavailable (%s)", exc)
        return template, 0, 0
    used = done.prompt_tokens + done.completion_tokens
    text = check_reply(done.text, f"{group.theme}\n{question or ''}", system, max_chars=MAX_CHARS)
    if text is None or _HARSH.search(text):
        log.info("nudge from the template: the model's draft was too long, linked out or scolded")
        return template, 1, used
    return text, 1, used
