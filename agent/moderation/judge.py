"""The model judge for the ambiguous rest: a closed label set, asked only when a cheap check is unsure.

Only weak findings (a single cue the deterministic rules will not act on alone) reach the model, so
chatter never costs a call. Any failure or an answer outside the labels means "no verdict" and the
no-LLM behaviour stands.
"""
from __future__ import annotations

import logging

from agent.llm.guard import as_data
from agent.moderation.detectors import SEVERITY, Finding

log = logging.getLogger(__name__)

LABELS = ["none", *SEVERITY]


def judge(text: str, hints: list[Finding], ctx) -> Finding | None:
    """Ask ctx.services.llm to label the message; a Finding for a violation label, else None."""
    llm = ctx.services.llm
    if llm is None or not hints:
        return None
    group = ctx.group
    rules = "\n".join(f"{n}. {r.text}" for n, r in enumerate(group.rules, 1))
    try:
        label = llm.classify(
            ctx.sentence("case_judge_system", group=group.name or group.id, theme=group.theme, rules=rules,
                         labels=" / ".join(LABELS)),
            ctx.sentence("case_judge_user", message=as_data(text), hints=", ".join(h.reason for h in hints)),
            LABELS,
        )
    except Exception as exc:  # unavailable, over budget, breaker open: keep the no-LLM verdict
        log.info("moderation judge unavailable: %s", exc)
        return None
    if label in (None, "none"):
        return None
    cues = next((h.cues for h in hints if h.kind == label), ())
    return Finding(label, f"model judge ({hints[0].reason})", SEVERITY[label], 0.7, cues)
