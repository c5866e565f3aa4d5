"""Is a message a question the bot should take? Decided from how it is asked, not what it is about.

A member asking a fact ("沙龙几点开始") is the bot's to answer; a member polling peers ("你们觉得哪个
好") is not, unless the bot was addressed. The cues are data (cues.yaml) so a new language or register
is a file edit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from agent import patterns

_EMOJI_CODE = patterns.compile(r"\[[^\[\]]{1,6}\]")  # [图片], [捂脸] as WeChat clients render them
_MENTION = patterns.compile(r"@\S+\s?")


@lru_cache(maxsize=1)
def cues() -> dict:
    """The language cues of cues.yaml: how people ask, and what kind of answer a question asks for."""
    return yaml.safe_load((Path(__file__).with_name("cues.yaml")).read_text(encoding="utf-8"))


def clean(text: str) -> str:
    """Text without @mentions and emoji codes: what the member actually asks."""
    return _EMOJI_CODE.sub(" ", _MENTION.sub(" ", text)).strip()


@dataclass(frozen=True)
class QuestionShape:
    is_question: bool  # asks something at all
    opinion: bool  # asks peers for an opinion or experience
    seeks_fact: bool  # a factual question (an interrogative, or "does anyone know")


@lru_cache(maxsize=16384)  # routes, focus and the gap screen ask of the same text and clauses
def shape(text: str) -> QuestionShape:
    body = clean(text)
    low = body.lower()
    table = cues()
    zh, en = table["zh"], table["en"]
    mark = "?" in body or "？" in body
    stripped = patterns.sub(r"[\s\W_]+$", "", low)
    ending = any(stripped.endswith(e) for e in zh["endings"])
    ask = any(w in low for w in zh["ask"]) or any(patterns.search(rf"(^|\b){re.escape(w)}", low) for w in en["ask"])
    opinion = any(w in low for w in zh["opinion"]) or any(w in low for w in en["opinion"])
    seek = any(w in low for w in zh["seek"]) or any(w in low for w in en["seek"])
    is_question = mark or ending or ask or seek
    return QuestionShape(is_question=is_question, opinion=opinion and not seek, seeks_fact=is_question and (ask or seek or mark))


_CLAUSE = patterns.compile(r"[\s，,。！!；;~～…]+")


def focus(text: str) -> str:
    """The clauses that ask, without the chatty context around them ("我拍的视频总糊").
    A clause too thin to carry a subject ("这正常吗", "你们也这样吗") keeps the clause before it."""
    from agent.kb.tokenize import content_tokens  # late: jieba loads only when a question comes

    parts = [p for p in _CLAUSE.split(clean(text)) if p]
    picked: list[str] = []
    for i, part in enumerate(parts):
        if shape(part).is_question:
            thin = len(part) <= 5 or len(content_tokens(part)) <= 1
            if thin and i > 0 and parts[i - 1] not in picked:
                picked.append(parts[i - 1])
            picked.append(part)
    return " ".join(picked) if picked else clean(text)
