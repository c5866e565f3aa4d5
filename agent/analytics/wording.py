"""The figures of a Summary as the variables of the chat sentences (prompts stats_body, digest_*),
so /stats and the weekly digest word the same numbers the same way."""
from __future__ import annotations

from agent.analytics.funnel import Summary
from agent.analytics.labels import kind_name

NAMES_SHOWN = 5  # silent members named in chat; the report lists them all
_SEP = {"zh": "、", "en": ", "}
_NONE = {"zh": "无", "en": "none"}


def listing(items: list[str], lang: str) -> str:
    return _SEP.get(lang, ", ").join(items) or _NONE.get(lang, "none")


def _named(summary: Summary, ids: list[str], lang: str) -> str:
    """' (A, B, C…)' after a count, or '' when there is nobody to name."""
    if not ids:
        return ""
    shown = listing([summary.name(m) for m in ids[:NAMES_SHOWN]], lang) + ("…" if len(ids) > NAMES_SHOWN else "")
    return f"（{shown}）" if lang == "zh" else f" ({shown})"


def cost(tokens: int, llm) -> str:
    """'，约 ¥0.12' / ', about ¥0.12' from the configured price, or '' when no price is set."""
    if not tokens or llm is None or llm.price_per_million_tokens is None:
        return ""
    return f"{tokens * llm.price_per_million_tokens / 1e6:.2f}"


def variables(summary: Summary, lang: str, llm=None) -> dict[str, object]:
    """`llm`: the LLMSettings, for the estimated cost of the model's tokens."""
    rate = summary.answer_rate
    tokens = summary.total("llm.tokens")
    estimate = cost(tokens, llm)
    kinds = summary.violations
    return {
        "since": summary.since.isoformat(), "until": summary.until.isoformat(),
        "days": len(summary.daily), "messages": summary.messages, "active": summary.active,
        "joined": summary.total("members.joined"), "left": summary.total("members.left"),
        "asked": summary.asked, "answered": summary.answered, "unknown": summary.unknown,
        "rate": "—" if rate is None else f"{rate:.0%}",
        "nudges": summary.nudges, "offtopic": summary.offtopic, "violations": sum(kinds.values()),
        "violation_kinds": listing([f"{kind_name(k, lang)} {n}" for k, n in kinds.items()], lang),
        "top": listing([f"{summary.name(m)} {n}" for m, n in summary.top[:3]], lang),
        "never": len(summary.silent_never), "never_names": _named(summary, summary.silent_never, lang),
        "quiet": len(summary.silent_quiet), "quiet_names": _named(summary, summary.silent_quiet, lang),
        "newcomers": summary.newcomers, "newcomers_spoke": summary.newcomers_spoke,
        "llm_calls": summary.total("llm.calls"), "llm_tokens": tokens,
        "llm_cost": (f"，约 {llm.currency}{estimate}" if lang == "zh" else f", about {llm.currency}{estimate}") if estimate else "",
    }
